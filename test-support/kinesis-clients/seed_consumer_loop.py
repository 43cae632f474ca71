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
import os
import sys
import threading
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'examples', 'kinesis-api'))
import consumer  # noqa: E402


class Stop(Exception):
    pass


def run_example_consumer(stream, printed, polls, stop, failure):
    consumer.print = printed.append
    real_sleep = time.sleep

    def sleep(_seconds):
        polls.append(time.time())
        if stop.is_set():
            raise Stop()
        real_sleep(0.2)

    consumer.time = types.SimpleNamespace(sleep=sleep)
    try:
        consumer.consumir_stream(stream)
    except Stop:
        pass
    except Exception as err:  # the consumer died: reported, not hidden
        failure.append(repr(err))


def main():
    stream = sys.argv[1]
    printed, polls, failure, stop = [], [], [], threading.Event()
    thread = threading.Thread(target=run_example_consumer, args=(stream, printed, polls, stop, failure), daemon=True)
    thread.start()
    deadline = time.time() + 120
    while not polls and not failure and time.time() < deadline:
        time.sleep(0.1)
    print('polling' if polls else 'not polling: %s' % failure, flush=True)

    values = json.loads(sys.stdin.readline())
    expected = ['TXN: %s' % json.loads(v) for v in values]
    deadline = time.time() + 180
    while len(printed) < len(expected) and not failure and time.time() < deadline:
        time.sleep(0.2)
    seen = len(polls)
    while len(polls) < seen + 3 and not failure and time.time() < deadline:
        time.sleep(0.2)
    stop.set()
    thread.join(10)

    problems = ['the consumer failed: %s' % f for f in failure]
    if printed != expected:
        problems.append('the consumer printed %d lines, %d expected (first differing: %s instead of %s)' % (
            len(printed), len(expected),
            next((p for p, e in zip(printed, expected) if p != e), None),
            next((e for p, e in zip(printed, expected) if p != e), None)))
    print(json.dumps({'expected': len(expected), 'printed': len(printed), 'problems': problems[:20]}))


if __name__ == '__main__':
    main()
