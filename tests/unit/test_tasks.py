"""cancel_and_wait stops tasks that lose a cancel, and gives up on ones that never stop."""

from __future__ import annotations

import asyncio

from synthmarket.infra.tasks import cancel_and_wait


async def test_a_task_that_swallows_the_first_cancel_is_still_stopped():
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            swallowed.set()  # the lost-cancel case: carry on as if nothing happened
        await asyncio.sleep(60)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    assert await cancel_and_wait([task], timeout=5) == set()
    assert swallowed.is_set() and task.cancelled()


async def test_a_task_that_never_stops_is_left_after_the_timeout():
    released = asyncio.Event()

    async def immortal() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(immortal())
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await cancel_and_wait([task], timeout=0.3) == {task}
    assert loop.time() - started < 2
    released.set()  # tidy up: the next cancel ends it
    task.cancel()
    await asyncio.wait([task], timeout=1)
    assert task.done()


async def test_done_tasks_need_no_waiting():
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    assert await cancel_and_wait([task], timeout=1) == set()
