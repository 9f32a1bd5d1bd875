"""The periodic runner: a failed round does not end the job, and leaving the block stops it."""

import asyncio

from wegweiser.common.periodic import every, running


async def test_a_failed_round_is_retried_and_the_task_stops_with_the_block() -> None:
    rounds: list[str] = []
    third = asyncio.Event()

    async def job() -> dict[str, int]:
        rounds.append("round")
        if len(rounds) == 1:
            raise RuntimeError("database away")
        if len(rounds) == 3:
            third.set()
        return {"erased": len(rounds)}

    async with running(every(0, job, name="test job"), name="test") as task:
        await third.wait()
    assert task.cancelled()
    assert len(rounds) >= 3
