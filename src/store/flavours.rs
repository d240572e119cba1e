//! The migrations as the database's flavour needs them. Every migration runs as written on
//! PostgreSQL; on Citus one needs another form of one statement:
//!
//! - **V19**: `ALTER TABLE messages ALTER COLUMN search_text DROP EXPRESSION` is an `ALTER TABLE`
//!   Citus refuses to propagate ("alter table command is currently unsupported"). Its Citus form
//!   drops the expression first, on the coordinator's table with DDL propagation off and on every
//!   shard through `run_command_on_shards` (before the migration's other DDL takes the shards'
//!   locks through its own connections), both `IF EXISTS`, so that a retry after a failure is a
//!   no-op where it was done. The rest of V19 is its own text.
//!
//! A Citus database records the Citus form's checksum for V19; every release uses the same form
//! there (it must never change, like a migration). Checked on the 3-node cluster
//! (`scale/citus/run`): FINDINGS.md, "V19 on Citus".

use refinery::Migration;

/// V19's statement Citus refuses, as V19 writes it.
const V19_REFUSED: &str = "EXECUTE 'ALTER TABLE messages ALTER COLUMN search_text DROP EXPRESSION';";
/// Where V19's block starts, and what its Citus form does there first.
const V19_START: &str = "PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);";
const V19_CITUS_START: &str = "PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
    EXECUTE 'ALTER TABLE messages ALTER COLUMN search_text DROP EXPRESSION IF EXISTS';
    PERFORM run_command_on_shards('messages',
        'ALTER TABLE %s ALTER COLUMN search_text DROP EXPRESSION IF EXISTS');
    PERFORM set_config('citus.enable_ddl_propagation', 'on', true);
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);";

/// The migrations for a database with the `citus` extension (`citus`) or without.
pub(super) fn migrations(embedded: &[Migration], citus: bool) -> anyhow::Result<Vec<Migration>> {
    if !citus {
        return Ok(embedded.to_vec());
    }
    embedded
        .iter()
        .map(|m| match (m.version(), m.sql()) {
            (19, Some(sql)) => {
                anyhow::ensure!(
                    sql.matches(V19_REFUSED).count() == 1 && sql.matches(V19_START).count() == 1,
                    "V19's text is not the one its Citus form was written for"
                );
                let citus_sql = sql.replace(V19_START, V19_CITUS_START).replace(V19_REFUSED, "NULL;");
                Ok(Migration::unapplied(&format!("V19__{}", m.name()), &citus_sql)?)
            }
            _ => Ok(m.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_v19_differs_on_citus_and_only_where_it_must() {
        let embedded = super::super::migrate::embedded();
        let plain = migrations(&embedded, false).unwrap();
        let citus = migrations(&embedded, true).unwrap();
        assert_eq!(plain.len(), citus.len());
        for (p, c) in plain.iter().zip(&citus) {
            assert_eq!((p.version(), p.name()), (c.version(), c.name()));
            match p.version() {
                19 => {
                    let sql = c.sql().unwrap();
                    assert!(!sql.contains(V19_REFUSED));
                    assert!(sql.contains("run_command_on_shards('messages'"));
                    assert_ne!(p.checksum(), c.checksum());
                }
                _ => assert_eq!(p.checksum(), c.checksum()),
            }
        }
    }
}
