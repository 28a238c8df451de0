// The array literals the ingest batch is sent as, read back by a real PostgreSQL: every value
// a device can put in a topic, a metric name or a payload must arrive unchanged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { booleanArray, byteaArray, numberArray, textArray, timestamptzArray } from "../src/ingest/pg-arrays.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/support/database.ts";

let database: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase({ migrated: false });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  // The literals must not depend on the session's time zone.
  await client.query("SET TimeZone = 'America/St_Johns'");
});
afterAll(async () => {
  await client.end();
  await database.drop();
});

const roundTrip = async (literal: string, type: string) =>
  (await client.query(`SELECT $1::${type} AS value`, [literal])).rows[0].value as unknown[];

describe("ingest array literals", () => {
  it("keep text with quotes, backslashes, commas, braces, spaces, NULL and non-ASCII as given", async () => {
    const values = ['a"b', "c\\d", "e,f", "{g}", " spaced ", "NULL", "", "températ€ure.😀", '\\"', "devices/x/telemetry"];
    expect(await roundTrip(textArray(values), "text[]")).toEqual(values);
  });

  it("keep timestamps to the millisecond whatever the session's time zone", async () => {
    const values = [new Date("2000-01-01T00:00:00.000Z"), new Date(1_795_561_507_077), new Date("2099-12-31T23:59:59.999Z")];
    expect(await roundTrip(timestamptzArray(values), "timestamptz[]")).toEqual(values);
  });

  it("keep finite doubles exactly, including the extremes", async () => {
    const values = [0, -0, 1.5, -2.25, 0.1 + 0.2, 1e308, -1.7976931348623157e308, 5e-324, 123456789012345680000, 1e-7];
    expect(((await roundTrip(numberArray(values), "float8[]")) as number[]).map(Number)).toEqual(
      values.map((v) => (Object.is(v, -0) ? 0 : v)),
    );
    expect(await roundTrip(numberArray([0, 1, 2]), "int2[]")).toEqual([0, 1, 2]);
  });

  it("keep booleans and binary payloads", async () => {
    expect(await roundTrip(booleanArray([true, false]), "bool[]")).toEqual([true, false]);
    const payloads = [Buffer.from('{"temp":21.5}'), Buffer.alloc(0), Buffer.from([0, 0x22, 0x5c, 0x7b, 0x2c, 0xff])];
    expect(await roundTrip(byteaArray(payloads), "bytea[]")).toEqual(payloads);
  });

  it("are empty arrays for no values", async () => {
    expect(await roundTrip(textArray([]), "text[]")).toEqual([]);
    expect(await roundTrip(timestamptzArray([]), "timestamptz[]")).toEqual([]);
  });
});
