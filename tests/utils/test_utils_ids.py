import os
import threading
import time

import pytest

from llmspell_utils.ids import ALPHABET, is_id, new_id


def decode_ms(value: str) -> int:
    body = value.split("_")[-1]
    number = 0
    for char in body:
        number = number * 32 + ALPHABET.index(char)
    return number >> 80


def test_shape_and_validation() -> None:
    value = new_id("run")
    prefix, body = value.split("_")
    assert prefix == "run"
    assert len(body) == 26
    assert set(body) <= set(ALPHABET)
    assert is_id(value, "run")


def test_timestamp_is_the_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    value = new_id("evt")
    after = time.time_ns() // 1_000_000
    assert before <= decode_ms(value) <= after


def test_unique_and_sorted_in_creation_order() -> None:
    values = [new_id("run") for _ in range(5000)]
    assert len(set(values)) == len(values)
    assert values == sorted(values)


def test_sortable_across_milliseconds() -> None:
    first = new_id("run")
    time.sleep(0.003)
    second = new_id("run")
    assert decode_ms(second) > decode_ms(first)
    assert second > first


def test_monotonic_within_one_millisecond_and_when_clock_steps_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [time.time_ns() + 10**12]
    monkeypatch.setattr(time, "time_ns", lambda: now[0])
    same_ms = [new_id("a") for _ in range(50)]
    assert same_ms == sorted(same_ms)
    assert len(set(same_ms)) == 50
    now[0] -= 10**10
    after_step_back = new_id("a")
    assert after_step_back > same_ms[-1]


def test_unique_across_threads() -> None:
    results: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id("t") for _ in range(2000))

    threads = [threading.Thread(target=make, args=(bucket,)) for bucket in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [v for bucket in results for v in bucket]
    assert len(set(everything)) == len(everything)
    assert all(bucket == sorted(bucket) for bucket in results)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_repeat_parent_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = time.time_ns() + 2 * 10**12
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    new_id("f")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.write(write_end, new_id("f").encode())
        os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 100).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert is_id(child, "f")
    assert new_id("f") != child


@pytest.mark.parametrize(
    "value",
    [
        "run_01JD8X4Q7ZQ3M9VXW2K5T6B8N",
        "run_01JD8X4Q7ZQ3M9VXW2K5T6B8NAA",
        "run_01jd8x4q7zq3m9vxw2k5t6b8na",
        "run_01JD8X4Q7ZQ3M9VXW2K5T6B8NI",
        "run_81JD8X4Q7ZQ3M9VXW2K5T6B8NA",
        "ses_01JD8X4Q7ZQ3M9VXW2K5T6B8NA",
        "run01JD8X4Q7ZQ3M9VXW2K5T6B8NA",
        42,
        None,
    ],
)
def test_is_id_rejects_lookalikes(value: object) -> None:
    assert is_id("run_01JD8X4Q7ZQ3M9VXW2K5T6B8NA", "run")
    assert not is_id(value, "run")


@pytest.mark.parametrize("prefix", ["", "1run", "run id", "ru/n"])
def test_bad_prefix_is_rejected(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        new_id(prefix)
