"""
Runs the Kinesis consumer of examples/kinesis-api/consumer.py (boto3, unchanged) on one stream
against the endpoint in AWS_ENDPOINT_URL_KINESIS, and checks what it printed.

    python seed_consumer_loop.py <stream>

The consumer reads the first shard from LATEST and never returns: it runs on a thread with its
print and sleep replaced to collect what it prints and to stop it. Once it polls, this prints
`polling`; then it reads one JSON line on stdin, the list of values (JSON text) the first shard
is expected to deliver, waits until the consumer printed that many lines (and three more polls,
to see any extra), and prints one JSON line: counts and a list of problems (empty when the printed
lines are exactly `TXN: <value>` for each expected value, in order).
"""
import json
import sys
import time

from example_consumer import ExampleConsumer


def main():
    stream = sys.argv[1]
    example = ExampleConsumer(stream)
    printed, polls, failure = example.printed, example.polls, example.failure
    print('polling' if example.wait_polling(120) else 'not polling: %s' % failure, flush=True)

    values = json.loads(sys.stdin.readline())
    expected = ['TXN: %s' % json.loads(v) for v in values]
    deadline = time.time() + 180
    while len(printed) < len(expected) and not failure and time.time() < deadline:
        time.sleep(0.2)
    seen = len(polls)
    while len(polls) < seen + 3 and not failure and time.time() < deadline:
        time.sleep(0.2)
    example.finish()

    problems = ['the consumer failed: %s' % f for f in failure]
    if printed != expected:
        problems.append('the consumer printed %d lines, %d expected (first differing: %s instead of %s)' % (
            len(printed), len(expected),
            next((p for p, e in zip(printed, expected) if p != e), None),
            next((e for p, e in zip(printed, expected) if p != e), None)))
    print(json.dumps({'expected': len(expected), 'printed': len(printed), 'problems': problems[:20]}))


if __name__ == '__main__':
    main()
