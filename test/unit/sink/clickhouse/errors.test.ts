import { describe, expect, it } from 'vitest';
import { isTransient, wrapClickHouseError } from '../../../../src/sink/clickhouse/errors.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('ClickHouse error classification', () => {
  it('trusts the server code over a broken pipe it caused by refusing a streamed INSERT', () => {
    expect(isTransient(err('Code: 131, e.displayText() = DB::Exception: Too large value for FixedString(15): (at row 1254)', 'EPIPE'))).toBe(false);
    expect(wrapClickHouseError(err('Code: 27. DB::Exception: Cannot parse input', 'ECONNRESET'), 'insert', 'INSERT_REJECTED').code).toBe('INSERT_REJECTED');
  });

  it('stops on a refusal of the user: a missing right, a readonly user, a wrong password (a readonly user used as the processor retried for ever)', () => {
    for (const [code, text] of [
      ['497', "weblog_processor: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TABLE ON lp.schema_migrations"],
      ['164', 'weblog_reader: Cannot execute query in readonly mode'],
      ['516', 'x: Authentication failed: password is incorrect, or there is no user with such name'],
    ] as const) {
      const e = wrapClickHouseError(err(text, code), 'insert into access_log', 'INSERT_REJECTED');
      expect(e.code).toBe('REFUSED');
      expect(e.retriable).toBe(false);
      expect(e.message).toContain('docs/clickhouse.md, "Users and rights"');
      expect(isTransient(err(`Code: ${code}. DB::Exception: ${text}`))).toBe(false);
    }
  });

  it('retries network failures and retriable server codes', () => {
    expect(isTransient(err('connect ECONNREFUSED 127.0.0.1:8123', 'ECONNREFUSED'))).toBe(true);
    expect(isTransient(err('socket hang up', 'ECONNRESET'))).toBe(true);
    expect(isTransient(err('other side closed', 'UND_ERR_SOCKET'))).toBe(true);
    expect(isTransient(err('Timeout error.'))).toBe(true); // the client's request timeout: no code exists
    expect(isTransient(err('<html><head><title>502 Bad Gateway</title></head></html>'))).toBe(true); // a proxy's answer
    expect(isTransient(Object.assign(new Error('insert failed'), { cause: err('connect ECONNREFUSED', 'ECONNREFUSED') }))).toBe(true);
    expect(isTransient(err('Code: 252. DB::Exception: Too many parts'))).toBe(true);
    expect(isTransient(err('Request failed with status 503'))).toBe(true);
  });

  it('retries quorum conflicts and replicas that are down (a cluster with insert_quorum), never takes them for bad rows', () => {
    // Seen on a 2-replica 18.16 cluster: good rows were narrowed down and rejected as bad.
    expect(isTransient(err('Code: 286, e.displayText() = DB::Exception: Another quorum insert has been already started: Insertion status:'))).toBe(true);
    expect(isTransient(err('Code: 286, e.displayText() = DB::Exception: Quorum for previous write has not been satisfied yet. Status: version: 1'))).toBe(true);
    expect(isTransient(err('Code: 285, e.displayText() = DB::Exception: Number of alive replicas (1) is less than requested quorum (2).'))).toBe(true);
    expect(
      isTransient(
        err("Code: 289, e.displayText() = DB::Exception: Replica doesn't have part 201505_1_1_0 which was successfully written to quorum of other replicas."),
      ),
    ).toBe(true);
  });

  it('does not take digits inside a message for an HTTP status', () => {
    expect(isTransient(err('Cannot parse input at row 5021'))).toBe(false);
    expect(isTransient(err('Value 503 is out of range for column status'))).toBe(false);
  });
});
