"""
The consumer of examples/kinesis-api/consumer.py (boto3, unchanged) on a thread, for the drivers
beside this file. It reads the first shard from LATEST and never returns, so its print and sleep are
replaced: what it prints is collected, each poll is recorded, and setting `stop` ends it at its next
poll. An exception it raises is recorded in `failure`, not hidden.
"""
import os
import sys
import threading
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'examples', 'kinesis-api'))
import consumer  # noqa: E402


class _Stop(Exception):
    pass


class ExampleConsumer:
    def __init__(self, stream):
        self.printed, self.polls, self.failure = [], [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        consumer.print = self.printed.append
        real_sleep = time.sleep

        def sleep(_seconds):
            self.polls.append(time.time())
            if self.stop.is_set():
                raise _Stop()
            real_sleep(0.2)

        consumer.time = types.SimpleNamespace(sleep=sleep)
        try:
            consumer.consumir_stream(stream)
        except _Stop:
            pass
        except Exception as err:  # the consumer died: reported, not hidden
            self.failure.append(repr(err))

    def wait_polling(self, timeout_s):
        """True once the consumer has its iterator and polls; false if it failed or the time ran out."""
        deadline = time.time() + timeout_s
        while not self.polls and not self.failure and time.time() < deadline:
            time.sleep(0.1)
        return bool(self.polls)

    def finish(self):
        self.stop.set()
        self.thread.join(10)
