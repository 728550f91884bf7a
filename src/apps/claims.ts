// The claims that hold app data, created so that no edit deletes or replaces them.

/**
 * How to move a claim's data to another StorageClass: the program never does it (the class of a
 * claim is immutable, and replacing it would delete the data first).
 */
export const CLAIM_MIGRATION =
  "the claim keeps the class it was created with (storageClassName changes are ignored); to move its data, set apps.<name>.enabled: false and `pulumi up`, copy the data out of the kept claim, `kubectl delete pvc` it, then enable the app on the new class and copy the data back";

/** A claim Pulumi creates but never deletes or replaces (src/system/claims.ts): the apps layer uses the system layer's. */
export { retainedClaim } from "../system/claims";
