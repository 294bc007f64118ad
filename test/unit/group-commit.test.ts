import { describe, expect, it } from 'vitest';
import { GroupCommitQueue } from '../../src/adapters/group-commit.js';

/** A writer whose writes end when the test says so, recording each group and its lane. */
function controlledWriter() {
  const writes: Array<{ lane: number; events: number[]; done: () => void }> = [];
  const write = (events: number[], lane: number): Promise<void> =>
    new Promise((resolve) => {
      writes.push({ lane, events, done: resolve });
    });
  return { writes, write };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A queue of two lanes, each with a one-event write in flight (events 1 and 2); resolves to their pushes. */
async function twoLanesBusy(queue: GroupCommitQueue<number>): Promise<Array<Promise<void>>> {
  const busy = [queue.push([1], queue.pickLane(2))];
  await nextTurn();
  busy.push(queue.push([2], queue.pickLane(2)));
  await nextTurn();
  return busy;
}

describe('GroupCommitQueue lanes', () => {
  it('requests of one turn that may go anywhere share one write on one lane', async () => {
    const { writes, write } = controlledWriter();
    const queue = new GroupCommitQueue<number>(write, { maxGroup: 100, maxQueued: 1_000 });
    const pushed = [1, 2, 3, 4, 5, 6].map((n) => queue.push([n], queue.pickLane(4)));
    await nextTurn();
    expect(writes.map((w) => w.events)).toEqual([[1, 2, 3, 4, 5, 6]]);
    writes[0]!.done();
    await Promise.all(pushed);
  });

  it('while a write is in flight, new requests start a write on an idle lane; lanes take turns', async () => {
    const { writes, write } = controlledWriter();
    const queue = new GroupCommitQueue<number>(write, { maxGroup: 100, maxQueued: 1_000 });
    const first = queue.push([1], queue.pickLane(3));
    await nextTurn();
    const second = queue.push([2], queue.pickLane(3));
    await nextTurn();
    const third = queue.push([3], queue.pickLane(3));
    await nextTurn();
    expect(writes.map((w) => [w.lane, w.events])).toEqual([
      [0, [1]],
      [1, [2]],
      [2, [3]],
    ]);
    for (const w of writes) w.done();
    await Promise.all([first, second, third]);
    // every lane idle again: the turn goes on from the lane after the last one chosen
    const fourth = queue.push([4], queue.pickLane(3));
    await nextTurn();
    expect(writes[3]!.lane).toBe(0);
    writes[3]!.done();
    await fourth;
  });

  it('when every lane has a write in flight, requests gather behind one of them and go together', async () => {
    const { writes, write } = controlledWriter();
    const queue = new GroupCommitQueue<number>(write, { maxGroup: 100, maxQueued: 1_000 });
    const busy = await twoLanesBusy(queue);
    expect(writes).toHaveLength(2);
    const waiting = [3, 4, 5, 6].map((n) => queue.push([n], queue.pickLane(2)));
    await nextTurn();
    expect(writes).toHaveLength(2);
    const behind = writes.find((w) => w.events.includes(1))!;
    const other = writes.find((w) => w.events.includes(2))!;
    behind.done();
    other.done();
    await Promise.all(busy);
    await nextTurn();
    // one write holds all four, on the same lane
    expect(writes.slice(2).map((w) => w.events)).toEqual([[3, 4, 5, 6]]);
    writes[2]!.done();
    await Promise.all(waiting);
  });

  it('a lane whose queue already fills a group is passed over while another has room', async () => {
    const { writes, write } = controlledWriter();
    const queue = new GroupCommitQueue<number>(write, { maxGroup: 3, maxQueued: 1_000 });
    const all = await twoLanesBusy(queue);
    const lanes: number[] = [];
    for (let n = 3; n <= 8; n++) {
      const lane = queue.pickLane(2);
      lanes.push(lane);
      all.push(queue.push([n], lane));
    }
    // three behind one lane fill a group; the next three go behind the other
    expect(lanes.slice(0, 3).every((l) => l === lanes[0])).toBe(true);
    expect(lanes.slice(3).every((l) => l !== lanes[0])).toBe(true);
    for (let i = 0; i < writes.length; i++) writes[i]!.done();
    await nextTurn();
    for (let i = 2; i < writes.length; i++) writes[i]!.done();
    await Promise.all(all);
    expect(writes.slice(2).map((w) => w.events.length)).toEqual([3, 3]);
  });

  it('a request is never split, and each lane keeps its order', async () => {
    const { writes, write } = controlledWriter();
    const queue = new GroupCommitQueue<number>(write, { maxGroup: 2, maxQueued: 1_000 });
    const pushed = [queue.push([1, 2, 3], 0), queue.push([4], 0), queue.push([5], 0)];
    await nextTurn();
    expect(writes.map((w) => w.events)).toEqual([[1, 2, 3]]);
    writes[0]!.done();
    await nextTurn();
    expect(writes.map((w) => w.events)).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    writes[1]!.done();
    await Promise.all(pushed);
  });
});
