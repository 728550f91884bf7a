// The PostgreSQL backup of seed 003, pure: a nightly pg_dumpall of the catalog's PostgreSQL to the
// NFS backup share (`<backupShare>/postgresql/`), compressed, written atomically, pruned by age.

/** When the dump runs (UTC) and how many days of dumps are kept. */
export const BACKUP_SCHEDULE = "0 3 * * *";
export const BACKUP_RETENTION_DAYS = 14;
/** Directory under the backup share (seed 003: /volume1/k3s-backups/postgresql/). */
export const BACKUP_SUBDIR = "postgresql";

/**
 * The dump script (bash, in the postgres image). It writes to a hidden partial file and renames it
 * only after pg_dumpall and gzip both succeeded, so a failed run never leaves a truncated dump
 * that pruning could mistake for a good one.
 */
export function pgDumpScript(retentionDays = BACKUP_RETENTION_DAYS): string {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    `dir="/backup/${BACKUP_SUBDIR}"`,
    'mkdir -p "$dir"',
    'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
    'partial="$dir/.postgresql-$stamp.sql.gz.partial"',
    "trap 'rm -f \"$partial\"' EXIT",
    'pg_dumpall --clean --if-exists | gzip -9 > "$partial"',
    'mv "$partial" "$dir/postgresql-$stamp.sql.gz"',
    `find "$dir" -maxdepth 1 -type f -name 'postgresql-*.sql.gz' -mtime +${retentionDays} -delete`,
    'echo "backup written: $dir/postgresql-$stamp.sql.gz"',
    "",
  ].join("\n");
}

export interface PgDumpCronJobArgs {
  readonly namespace: string;
  /** Name of the CronJob, e.g. postgresql-backup. */
  readonly name: string;
  /** Same image as the server, so pg_dumpall is never older than the server. */
  readonly image: string;
  /** Service DNS name of the server. */
  readonly host: string;
  /** Secret and key holding the superuser password. */
  readonly passwordSecret: string;
  readonly passwordKey: string;
  readonly nfsServer: string;
  readonly backupShare: string;
}

/** The batch/v1 CronJob spec (metadata and spec) for Pulumi's CronJob resource. */
export function renderPgDumpCronJob(a: PgDumpCronJobArgs) {
  return {
    metadata: { name: a.name, namespace: a.namespace, labels: { "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/component": "backup" } },
    spec: {
      schedule: BACKUP_SCHEDULE,
      timeZone: "Etc/UTC",
      // Never two dumps at once; a missed window is not caught up later than an hour.
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 2,
          template: {
            spec: {
              restartPolicy: "OnFailure",
              containers: [
                {
                  name: "pg-dump",
                  image: a.image,
                  command: ["/bin/bash", "-c", pgDumpScript()],
                  env: [
                    { name: "PGHOST", value: a.host },
                    { name: "PGUSER", value: "postgres" },
                    { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: a.passwordSecret, key: a.passwordKey } } },
                  ],
                  volumeMounts: [{ name: "backup", mountPath: "/backup" }],
                  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                },
              ],
              volumes: [{ name: "backup", nfs: { server: a.nfsServer, path: a.backupShare } }],
            },
          },
        },
      },
    },
  };
}
