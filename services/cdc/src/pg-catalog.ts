/**
 * Reads what the change stream does not carry from the catalog: column types as format_type
 * prints them, primary keys, and pg_type facts to pick value codecs. Warns once per table
 * without a key and once per column of an unknown type.
 */
import type { Client } from 'pg';
import type { Logger } from '@tideway/runtime';
import { makeCapturedTable, topicFor, type CapturedColumn, type CapturedTable } from './change-events';
import type { ReplicaIdentity } from './pgoutput';
import { codecForType, isFallback, type PgTypeRow } from './value-codec';

export interface ColumnDescription {
  name: string;
  typeOid: number;
  typeMod: number;
  /** Flagged as replica identity in the Relation message. */
  identity: boolean;
}

export class PgCatalog {
  private readonly types = new Map<number, PgTypeRow>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly topicTemplate: string,
  ) {}

  private async loadTypes(client: Client, oids: number[]): Promise<void> {
    let missing = [...new Set(oids)].filter((o) => o !== 0 && !this.types.has(o));
    // Arrays and domains refer to other types; follow them a few levels.
    for (let round = 0; missing.length > 0 && round < 4; round++) {
      const res = await client.query<{
        oid: number;
        typname: string;
        typtype: string;
        typelem: number;
        typbasetype: number;
        typcategory: string;
        typdelim: string;
      }>(
        'SELECT oid::int8::float8 AS oid, typname, typtype, typelem::int8::float8 AS typelem, typbasetype::int8::float8 AS typbasetype, typcategory, typdelim FROM pg_type WHERE oid = ANY($1::oid[])',
        [missing],
      );
      const next: number[] = [];
      for (const r of res.rows) {
        const row: PgTypeRow = {
          oid: Number(r.oid),
          name: r.typname,
          typtype: r.typtype,
          elementOid: Number(r.typelem),
          baseOid: Number(r.typbasetype),
          category: r.typcategory,
          delimiter: r.typdelim,
        };
        this.types.set(row.oid, row);
        for (const o of [row.elementOid, row.baseOid]) if (o !== 0 && !this.types.has(o)) next.push(o);
      }
      missing = next;
    }
  }

  /** Describes a table from the columns of a Relation message (or of the catalog, for snapshots). */
  async describe(
    client: Client,
    relationId: number,
    schema: string,
    table: string,
    columns: ColumnDescription[],
    replicaIdentity: ReplicaIdentity,
  ): Promise<CapturedTable> {
    await this.loadTypes(
      client,
      columns.map((c) => c.typeOid),
    );
    const formatted = await client.query<{ type: string }>(
      'SELECT format_type(t.o, t.m) AS type FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS t(o, m, n) ORDER BY t.n',
      [columns.map((c) => c.typeOid), columns.map((c) => c.typeMod)],
    );
    const pk = await client.query<{ attname: string }>(
      `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
       WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`,
      [relationId],
    );
    const captured: CapturedColumn[] = columns.map((c, i) => {
      const codec = codecForType(this.types.get(c.typeOid), (oid) => this.types.get(oid));
      const type = formatted.rows[i]?.type ?? 'text';
      if (isFallback(codec))
        this.warnOnce(
          `type:${schema}.${table}.${c.name}`,
          { table: `${schema}.${table}`, column: c.name, type },
          'column type has no dedicated decoder; its values are carried as text',
        );
      return { name: c.name, codec, type };
    });
    let keyColumns = pk.rows.map((r) => columns.findIndex((c) => c.name === r.attname)).filter((i) => i >= 0);
    if (keyColumns.length === 0 && replicaIdentity === 'index') keyColumns = columns.flatMap((c, i) => (c.identity ? [i] : []));
    if (keyColumns.length === 0) {
      this.warnOnce(
        `nokey:${schema}.${table}`,
        { table: `${schema}.${table}`, replicaIdentity },
        'table has no primary key: its events have a null key (spread over partitions, no per-row order); UPDATE/DELETE need REPLICA IDENTITY FULL or USING INDEX to be published',
      );
    }
    return makeCapturedTable({ relationId, schema, table, topic: topicFor(this.topicTemplate, schema, table), columns: captured, keyColumns });
  }

  /** Columns of a table as pgoutput would send them (no dropped or generated columns), for snapshots. */
  async describeFromCatalog(client: Client, schema: string, table: string): Promise<CapturedTable> {
    const rel = await client.query<{ oid: string; relreplident: string }>(
      'SELECT c.oid::int8::text AS oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
      [schema, table],
    );
    if (rel.rows.length === 0) throw new Error(`table ${schema}.${table} does not exist`);
    const relationId = Number(rel.rows[0].oid);
    const cols = await client.query<{ attname: string; atttypid: string; atttypmod: number }>(
      `SELECT attname, atttypid::int8::text AS atttypid, atttypmod FROM pg_attribute
       WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
      [relationId],
    );
    const identity: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };
    const ri = identity[rel.rows[0].relreplident] ?? 'default';
    let identityCols = new Set<string>();
    if (ri === 'index') {
      const idx = await client.query<{ attname: string }>(
        'SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = $1::oid AND i.indisreplident',
        [relationId],
      );
      identityCols = new Set(idx.rows.map((r) => r.attname));
    }
    return this.describe(
      client,
      relationId,
      schema,
      table,
      cols.rows.map((c) => ({ name: c.attname, typeOid: Number(c.atttypid), typeMod: c.atttypmod, identity: identityCols.has(c.attname) })),
      ri,
    );
  }

  private warnOnce(id: string, fields: Record<string, unknown>, message: string) {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.logger.warn(fields, message);
  }
}
