"""
Runs the Kinesis producer and consumer of examples/kinesis-api/ (boto3, unchanged) against the
endpoint in AWS_ENDPOINT_URL_KINESIS and checks what came back. The stream is the one the examples
name, 'transacciones-realtime'; it must exist.

    python seed_roundtrip.py <records> <clients>

The examples' consumer reads the first shard from LATEST and never returns: it runs on a thread,
started before anything is put, with its print and sleep replaced to collect what it prints and to
stop it. A reader of every shard from TRIM_HORIZON then checks the whole stream: every record once,
in put order per partition key, on the shard whose hash-key range holds the MD5 of its key.
Prints one JSON line: counts and a list of problems (empty when everything holds).
"""
import hashlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'examples', 'kinesis-api'))
import producer  # noqa: E402
from example_consumer import ExampleConsumer  # noqa: E402

STREAM = 'transacciones-realtime'


def read_everything(kinesis, shards):
    records = []
    for shard in shards:
        it = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard['ShardId'], ShardIteratorType='TRIM_HORIZON')['ShardIterator']
        empty = 0
        while it and empty < 3:
            r = kinesis.get_records(ShardIterator=it, Limit=1000)
            for rec in r['Records']:
                records.append((shard, rec))
            empty = empty + 1 if not r['Records'] else 0
            it = r.get('NextShardIterator')
    return records


def main():
    n, clients = int(sys.argv[1]), int(sys.argv[2])
    kinesis = producer.kinesis
    shards = kinesis.describe_stream(StreamName=STREAM)['StreamDescription']['Shards']
    problems = []

    example = ExampleConsumer(STREAM)
    printed = example.printed
    if not example.wait_polling(60):
        problems.append('the example consumer did not start polling within 60 s: %s' % example.failure)

    txns = [{'txn': 'TXN%06d' % i, 'cliente_id': 'cliente-%d' % (i % clients), 'monto': (i * 37) % 10000} for i in range(n)]
    half = n // 2
    for t in txns[:half]:
        producer.enviar_transaccion(t)
    for i in range(half, n, 500):
        response = producer.enviar_batch(txns[i:i + 500])
        if response['FailedRecordCount'] > 0:
            problems.append('put_records reported %d failed records' % response['FailedRecordCount'])

    records = read_everything(kinesis, shards)
    got = [json.loads(rec['Data']) for _, rec in records]
    ids = [g['txn'] for g in got]
    if sorted(ids) != sorted(t['txn'] for t in txns):
        problems.append('read %d records (%d distinct), put %d' % (len(ids), len(set(ids)), n))
    order = {t['txn']: i for i, t in enumerate(txns)}
    last_by_key = {}
    for (shard, rec), g in zip(records, got):
        key = rec['PartitionKey']
        if key != g['cliente_id']:
            problems.append('%s: partition key %s, expected %s' % (g['txn'], key, g['cliente_id']))
        h = int.from_bytes(hashlib.md5(key.encode('utf-8')).digest(), 'big')
        lo, hi = int(shard['HashKeyRange']['StartingHashKey']), int(shard['HashKeyRange']['EndingHashKey'])
        if not lo <= h <= hi:
            problems.append('%s (key %s) is on %s, whose range does not hold its hash' % (g['txn'], key, shard['ShardId']))
        if key in last_by_key and order[g['txn']] < last_by_key[key]:
            problems.append('%s came after a later record of key %s' % (g['txn'], key))
        last_by_key[key] = order[g['txn']]

    first_shard = [g for (shard, _), g in zip(records, got) if shard['ShardId'] == shards[0]['ShardId']]
    deadline = time.time() + 120
    while len(printed) < len(first_shard) and time.time() < deadline:
        time.sleep(0.2)
    example.finish()
    expected_lines = ['TXN: %s' % g for g in first_shard]
    if printed != expected_lines:
        problems.append('the example consumer printed %d lines, %d expected (first differing: %s)' % (
            len(printed), len(expected_lines), next((p for p, e in zip(printed, expected_lines) if p != e), None)))

    print(json.dumps({'put': n, 'read': len(records), 'shards': len(shards), 'exampleConsumerLines': len(printed), 'problems': problems[:20]}))


if __name__ == '__main__':
    main()
