import { ByteLru } from './lru';

const v = (bytes: number, name = '') => ({ bytes, name });

describe('ByteLru', () => {
  it('drops the least recently used first, counting what each value costs', () => {
    const lru = new ByteLru<ReturnType<typeof v>>(100);
    lru.set('a', v(40, 'a'));
    lru.set('b', v(40, 'b'));
    lru.touch('a'); // b is now the least recently used
    lru.set('c', v(40, 'c'));
    expect(lru.peek('b')).toBeUndefined();
    expect(lru.peek('a')?.name).toBe('a');
    expect(lru.size).toEqual({ bytes: 80, entries: 2 });
    // peek does not count as a use: a is dropped before c.
    lru.peek('a');
    lru.set('d', v(30, 'd'));
    expect([lru.peek('a'), lru.peek('c')?.name, lru.peek('d')?.name]).toEqual([undefined, 'c', 'd']);
  });

  it('replaces a key without counting it twice, and keeps nothing that alone is too big', () => {
    const lru = new ByteLru<ReturnType<typeof v>>(100);
    lru.set('a', v(60));
    lru.set('a', v(70));
    expect(lru.size).toEqual({ bytes: 70, entries: 1 });
    lru.set('a', v(101)); // the old value goes too
    expect(lru.size).toEqual({ bytes: 0, entries: 0 });
    lru.set('b', v(10));
    lru.delete('b');
    lru.delete('missing');
    lru.touch('missing');
    expect(lru.size).toEqual({ bytes: 0, entries: 0 });
    lru.set('c', v(10));
    lru.clear();
    expect(lru.size).toEqual({ bytes: 0, entries: 0 });
  });
});
