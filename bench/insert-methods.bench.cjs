// Measures the two bulk-insert methods for the ingest write path on a scratch database:
// INSERT ... SELECT unnest($1::type[], ...) against COPY FROM STDIN, on tables shaped like
// messages and readings (partitioned, with a DEFAULT partition and the readings index).
//
//   node bench/insert-methods.bench.cjs [batch]   (pg and pg-copy-streams are bench/ dependencies)
//
// (BENCH_DATABASE_URL picks the database; it creates and drops bench_m and bench_r.)
// Result on the 2-core dev machine (PostgreSQL 15, 200 transactions per run):
//   batch 500: unnest 20-27k msgs/s, COPY 21-26k;  batch 50: unnest 12-20k, COPY 15-20k.
// No measurable difference, so ingest.repository.ts uses unnest (no extra dependency).
const pg = require("pg");
const { from: copyFrom } = require("pg-copy-streams");
const { pipeline } = require("node:stream/promises");
const { Readable } = require("node:stream");
(async () => {
  const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1/postgres" });
  await pool.query(`DROP TABLE IF EXISTS bench_r; CREATE TABLE bench_r (device_id text, metric text, time timestamptz, value float8) PARTITION BY RANGE (time);
CREATE TABLE bench_r_d PARTITION OF bench_r DEFAULT; CREATE INDEX ON bench_r (device_id, metric, time);
DROP TABLE IF EXISTS bench_m; CREATE TABLE bench_m (received_at timestamptz, device_id text, topic text, payload bytea, qos smallint, retain bool) PARTITION BY RANGE (received_at);
CREATE TABLE bench_m_d PARTITION OF bench_m DEFAULT; CREATE INDEX ON bench_m (device_id, received_at);`);
  const N = Number(process.argv[2] ?? 500),
    ROUNDS = 200;
  function rows() {
    const now = new Date();
    return Array.from({ length: N }, (_, i) => ({
      d: `dev-${i % 50}`,
      t: `devices/dev-${i % 50}/telemetry`,
      p: Buffer.from(JSON.stringify({ temp: Math.random(), hum: i })),
      now,
      m: i % 2 ? "temp" : "hum",
      v: Math.random(),
    }));
  }
  async function unnest(c, rs) {
    await c.query(
      "INSERT INTO bench_m SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bytea[], $5::int2[], $6::bool[])",
      [rs.map((r) => r.now), rs.map((r) => r.d), rs.map((r) => r.t), rs.map((r) => r.p), rs.map(() => 1), rs.map(() => false)],
    );
    await c.query("INSERT INTO bench_r SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])", [
      rs.map((r) => r.d),
      rs.map((r) => r.m),
      rs.map((r) => r.now),
      rs.map((r) => r.v),
    ]);
  }
  const esc = (s) => s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
  async function copy(c, rs) {
    const iso = (d) => d.toISOString();
    await pipeline(
      Readable.from([rs.map((r) => `${iso(r.now)}\t${esc(r.d)}\t${esc(r.t)}\t\\\\x${r.p.toString("hex")}\t1\tf\n`).join("")]),
      c.query(copyFrom("COPY bench_m FROM STDIN")),
    );
    await pipeline(
      Readable.from([rs.map((r) => `${esc(r.d)}\t${esc(r.m)}\t${iso(r.now)}\t${r.v}\n`).join("")]),
      c.query(copyFrom("COPY bench_r FROM STDIN")),
    );
  }
  for (const [name, fn] of [
    ["unnest", unnest],
    ["copy", copy],
    ["unnest", unnest],
    ["copy", copy],
  ]) {
    const c = await pool.connect();
    const t0 = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      const rs = rows();
      await c.query("BEGIN");
      await fn(c, rs);
      await c.query("COMMIT");
    }
    const ms = performance.now() - t0;
    c.release();
    console.log(name, `batch ${N}:`, (((ROUNDS * N) / ms) * 1000).toFixed(0), "msgs/s");
  }
  await pool.query("DROP TABLE bench_r; DROP TABLE bench_m");
  await pool.end();
})();
