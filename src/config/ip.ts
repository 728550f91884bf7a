// IPv4 arithmetic on top of ipaddr.js: parsing, containment, ranges.
import ipaddr from "ipaddr.js";

export function ipToInt(ip: string): number {
  const b = ipaddr.IPv4.parse(ip).toByteArray();
  return ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

export interface Cidr {
  readonly network: string;
  readonly prefix: number;
}

export function parseCidr(cidr: string): Cidr {
  const [addr, prefix] = ipaddr.IPv4.parseCIDR(cidr);
  return { network: addr.toString(), prefix };
}

/** The network address of a CIDR, e.g. 10.0.20.0 for 10.0.20.7/24. */
export function networkOf(cidr: string): string {
  return ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
}

/** True when `ip` lies in `cidr` and is neither its network nor its broadcast address. */
export function isHostIn(ip: string, cidr: string): boolean {
  const addr = ipaddr.IPv4.parse(ip);
  const range = ipaddr.IPv4.parseCIDR(cidr);
  if (!addr.match(range)) return false;
  if (range[1] >= 31) return true;
  const n = ipToInt(ip);
  return n !== ipToInt(networkOf(cidr)) && n !== ipToInt(ipaddr.IPv4.broadcastAddressFromCIDR(cidr).toString());
}

export function isInCidr(ip: string, cidr: string): boolean {
  return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parseCIDR(cidr));
}

export interface IpRange {
  readonly first: string;
  readonly last: string;
}

/** Parses "a-b"; throws on a malformed or reversed range. */
export function parseRange(range: string): IpRange {
  const [first, last] = range.split("-");
  if (!first || !last || !ipaddr.IPv4.isValidFourPartDecimal(first) || !ipaddr.IPv4.isValidFourPartDecimal(last)) {
    throw new Error(`"${range}" is not a range of two IPv4 addresses`);
  }
  if (ipToInt(first) > ipToInt(last)) throw new Error(`"${range}" starts after it ends`);
  return { first, last };
}

export function rangeContains(range: IpRange, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= ipToInt(range.first) && n <= ipToInt(range.last);
}

export function rangeSize(range: IpRange): number {
  return ipToInt(range.last) - ipToInt(range.first) + 1;
}

/** The CIDR `a.b.c.d/p` of `ip` within `subnet`'s prefix, e.g. 10.0.20.11/24 for cloud-init. */
export function withPrefix(ip: string, subnet: string): string {
  return `${ip}/${parseCidr(subnet).prefix}`;
}

export function isValidIpv4(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip);
}
