// Times DuckDB or Polars on bench/relational's work, on tables loaded once
// (not timed), REPS times; prints one RESULT line like bench_relational:
// median, min, max, output rows and per-numeric-column sums.
// usage: node peers.mjs duckdb|polars groupby FILE KEY COL... -r REPS -t THREADS
//        node peers.mjs duckdb|polars join LEFT RIGHT KEY -r REPS -t THREADS
//        node peers.mjs duckdb|polars sort FILE COL... -r REPS -t THREADS (stable, ascending)
//        node peers.mjs duckdb|polars dedupe FILE COL... -r REPS -t THREADS (keep first, in order)
const args = process.argv.slice(2);
const opt = (flag, dflt) => {
    const i = args.indexOf(flag);
    if (i < 0) return dflt;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
};
const reps = Number(opt("-r", "5"));
const threads = opt("-t", "2");
const [engine, task, ...rest] = args;
const join = task === "join";
const now = () => Number(process.hrtime.bigint()) / 1e9;
const times = [];
let rows = 0, sums = {};

if (engine === "duckdb") {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const db = await DuckDBInstance.create(":memory:", { threads });
    const con = await db.connect();
    const load = (name, file) => con.run(`CREATE TABLE ${name} AS SELECT * FROM read_csv('${file}')`);
    let sql;
    if (join) {
        const [l, r, key] = rest;
        await load("l", l);
        await load("r", r);
        sql = `CREATE OR REPLACE TABLE o AS SELECT l.*, r.* EXCLUDE (${key}) FROM l LEFT JOIN r ON l.${key} = r.${key}`;
    } else if (task === "sort") {
        const [file, ...cols] = rest;
        await load("t", file);
        sql = `CREATE OR REPLACE TABLE o AS SELECT * FROM t ORDER BY ${cols.join(", ")}, rowid`;
    } else if (task === "dedupe") {
        const [file, ...cols] = rest;
        await load("t", file);
        sql = `CREATE OR REPLACE TABLE o AS SELECT * EXCLUDE (r, rn) FROM (SELECT *, rowid AS r, row_number() OVER (PARTITION BY ${cols.join(", ")} ORDER BY rowid) AS rn FROM t) WHERE rn = 1 ORDER BY r`;
    } else {
        const [file, key, ...cols] = rest;
        await load("t", file);
        sql = `CREATE OR REPLACE TABLE o AS SELECT ${key}, ${cols.map((c) => `avg(${c}) AS ${c}`).join(", ")} FROM t GROUP BY ${key}`;
    }
    for (let i = 0; i < reps; i++) {
        const t0 = now();
        await con.run(sql);
        times.push(now() - t0);
    }
    const desc = (await con.runAndReadAll("DESCRIBE o")).getRowObjects();
    const num = desc.filter((d) => /DOUBLE|BIGINT|INTEGER|FLOAT/.test(d.column_type)).map((d) => d.column_name);
    const res = (await con.runAndReadAll(`SELECT count(*)::DOUBLE AS n${num.map((c) => `, sum(${c})::DOUBLE AS "${c}"`).join("")} FROM o`)).getRowObjects()[0];
    rows = Number(res.n);
    for (const c of num) sums[c] = Number(res[c]);
} else {
    process.env.POLARS_MAX_THREADS = threads;
    const pl = (await import("nodejs-polars")).default;
    let run;
    if (join) {
        const [l, r, key] = rest;
        const L = pl.readCSV(l), R = pl.readCSV(r);
        run = () => L.join(R, { on: key, how: "left" });
    } else if (task === "sort") {
        const [file, ...cols] = rest;
        const T = pl.readCSV(file);
        run = () => T.sort({ by: cols, nullsLast: true, maintainOrder: true });
    } else if (task === "dedupe") {
        const [file, ...cols] = rest;
        const T = pl.readCSV(file);
        run = () => T.unique({ subset: cols, keep: "first", maintainOrder: true });
    } else {
        const [file, key, ...cols] = rest;
        const T = pl.readCSV(file);
        run = () => T.groupBy(key).agg(...cols.map((c) => pl.col(c).mean()));
    }
    let out;
    for (let i = 0; i < reps; i++) {
        const t0 = now();
        out = run();
        times.push(now() - t0);
    }
    rows = out.height;
    for (const c of out.columns) {
        const s = out.getColumn(c);
        if (s.isNumeric()) sums[c] = Number(s.sum());
    }
}
times.sort((a, b) => a - b);
console.log(`RESULT ${engine} ${task} threads=${threads} median_s=${times[reps >> 1].toFixed(4)} min_s=${times[0].toFixed(4)} ` +
    `max_s=${times[reps - 1].toFixed(4)} rows=${rows} checksums=${Object.entries(sums).map(([k, v]) => `${k}:${v.toPrecision(6)}`).join(",")}`);
