import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoryStore } from '../src/storage.js';
import { countUnread, ReadMarks } from '../src/unread.js';

describe('unread counts', () => {
  it('counts only messages from the peer after the read mark', () => {
    const items = [
      { pos: 1, dir: 'in' as const },
      { pos: 2, dir: 'out' as const },
      { pos: 3, dir: 'in' as const },
      { pos: 4, dir: 'in' as const },
      { pos: 5, dir: 'out' as const },
    ];
    assert.equal(countUnread(items, 0), 3);
    assert.equal(countUnread(items, 3), 1);
    assert.equal(countUnread(items, 5), 0);
  });

  it('read marks persist per line and only move forward', () => {
    const store = memoryStore();
    const marks = new ReadMarks(store, 'scope');
    assert.equal(marks.get('a'), 0);
    assert.equal(marks.markRead('a', 10), true);
    assert.equal(marks.markRead('a', 4), false);
    assert.equal(marks.markRead('b', 2), true);
    const again = new ReadMarks(store, 'scope');
    assert.equal(again.get('a'), 10);
    assert.equal(again.get('b'), 2);
  });
});
