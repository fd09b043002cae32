"""Opening envelopes: in-process or in ``spawn``-ed worker processes,
batched, with the team keys an envelope names checked first.
"""

from __future__ import annotations

import functools
import multiprocessing
import secrets
import threading
from typing import Any, Callable, Iterator

from surveycore.envelope import HEADER_LEN, MAGIC
from surveycore.errors import KeyFileError
from analysis.envelopes import BatchOpener, Catalogue, Opened, init_worker, worker_open
from analysis.keys import TeamPrivateKey


class _Opening:
    """Opens envelopes with ``processes`` processes: this one and
    ``processes - 1`` workers of the ``spawn`` context, all taking batches
    from one queue, so no core idles while the workers start (they start
    when this object is made, while the questionnaires are loaded)."""

    BATCH = 200

    def __init__(self, keys: dict[bytes, TeamPrivateKey], trusted: list[Any] | None, processes: int) -> None:
        self.keys, self.trusted = keys, trusted
        self.spawned = max(0, processes - 1)
        self.pool = None
        if self.spawned:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ctx.Pool(self.spawned, initializer=init_worker,
                                 initargs=([(k.suite, k.secret) for k in keys.values()], trusted))

    def run(self, batches: Iterator[list["_Entry"]], catalogue: Catalogue,
            consume: Callable[[list["_Entry"], list[Opened]], None], total: int,
            tell: Callable[[str, int, int], None] = lambda phase, done, total: None) -> None:
        """Open the envelopes of ``batches`` (pulled from the iterator only as
        processes are free for them, so that a bundle is read as it is
        opened) and hand each batch with its outcomes to ``consume``, in
        batch order, on this thread. ``total``: envelopes announced, for
        progress."""
        local = BatchOpener(self.keys, self.trusted, catalogue)
        done_n = 0
        if self.pool is None:
            for batch in batches:
                tell("open", done_n, total)
                consume(batch, local.open_batch(_to_open(batch)))
                done_n += len(batch)
            tell("open", total, total)
            return
        source = enumerate(batches)
        results: dict[int, tuple[list[_Entry], list[Opened]]] = {}
        errors: list[BaseException] = []
        cond = threading.Condition()
        # Batches read but not yet consumed stay within a window, so that a
        # slow worker never makes this process read the bundle far ahead.
        window = 4 * (self.spawned + 1)
        state = {"sent": 0, "next": 0, "exhausted": False, "idle": 0}
        full = object()
        task = functools.partial(worker_open, catalogue, secrets.randbits(62))

        def take() -> Any:
            # Under cond: the next batch from the file; None at its end;
            # ``full`` while the window is full.
            if state["exhausted"] or errors:
                return None
            if state["sent"] - state["next"] >= window:
                return full
            try:
                item = next(source, None)
            except BaseException as exc:  # noqa: BLE001 - a changed file: raised by run()
                errors.append(exc)
                item = None
            if item is None:
                state["exhausted"] = True
                return None
            state["sent"] += 1
            return item

        def done(no: int, batch: list[_Entry], opened: list[Opened]) -> None:
            # Runs in the pool's result thread: record, then feed the worker again.
            with cond:
                results[no] = (batch, opened)
                cond.notify_all()
            feed()

        def failed(exc: BaseException) -> None:
            with cond:
                errors.append(exc)
                cond.notify_all()

        def feed() -> None:
            with cond:
                item = take()
                if item is full:
                    state["idle"] += 1  # fed again once batches are consumed
                    return
            if item is None:
                return
            no, batch = item
            assert self.pool is not None
            self.pool.apply_async(task, (_to_open(batch),), callback=functools.partial(done, no, batch),
                                  error_callback=failed)

        for _ in range(2 * self.spawned):  # two in flight per worker: no gap between batches
            feed()
        while True:
            with cond:
                item = take()
            if item is not None and item is not full:
                no, batch = item
                opened = local.open_batch(_to_open(batch))
                with cond:
                    results[no] = (batch, opened)
            with cond:
                if item is None or item is full:
                    # Wait for the next batch from a worker.
                    while (state["next"] not in results and not errors
                           and not (state["exhausted"] and state["next"] >= state["sent"])):
                        cond.wait()
                if errors:
                    break
                ready = []
                while state["next"] in results:
                    ready.append(results.pop(state["next"]))
                    state["next"] += 1
                finished = state["exhausted"] and state["next"] >= state["sent"]
                idle, state["idle"] = state["idle"], 0
            for batch, opened in ready:
                consume(batch, opened)
                done_n += len(batch)
            tell("open", min(done_n, total), total)
            if finished:
                break
            for _ in range(idle):
                feed()
        if errors:
            raise errors[0]
        tell("open", total, total)

    def terminate(self) -> None:
        """Stop the workers at once (they are idle once ``run`` returned)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


def _key_id(env: bytes) -> bytes | None:
    """The recipient key id in an envelope's header (None if it has none)."""
    return env[6:HEADER_LEN] if len(env) >= HEADER_LEN and env[:4] == MAGIC else None


def _check_keys(ids: set[bytes], keys: dict[bytes, TeamPrivateKey]) -> None:
    """Refuse a run in which no envelope is sealed for any key given (``ids``:
    the key ids the envelopes name): the wrong key file was given, and
    quarantining everything would only hide it."""
    ids = ids - {None}
    if ids and not ids & set(keys):
        given = ", ".join(sorted(k.hex() for k in keys)) or "none"
        wanted = ", ".join(sorted(i.hex() for i in ids))
        raise KeyFileError(f"no envelope is sealed for the key(s) given (key id {given}); the bundles are "
                           f"sealed for key id {wanted}: give that team key with --key", code="KEY-050")


# One envelope of a run: global number, bundle name, index in the bundle, bytes.
_Entry = tuple[int, str, int, bytes]


def _to_open(batch: list[_Entry]) -> list[tuple[int, bytes]]:
    """The (number, envelope) pairs of a batch, as the openers take them."""
    return [(g, env) for g, _, _, env in batch]
