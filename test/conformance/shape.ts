/**
 * The comparable shape of a value, as the conformance suites compare ours with a recording: keys
 * and structure, every value except the `volatile` keys' strings (ids, times, model text...). A
 * list compares element by element, or, with `lists: 'set'`, as the set of its elements' shapes
 * (when how many there are depends on the hour, as the times a shop offers).
 */
export function shape(v: unknown, volatile: ReadonlySet<string>, lists: 'ordered' | 'set' = 'ordered', key?: string): unknown {
  if (Array.isArray(v)) {
    const shapes = v.map((x) => shape(x, volatile, lists));
    if (lists === 'ordered') return shapes;
    const distinct = new Map(shapes.map((s) => [JSON.stringify(s), s]));
    return [...distinct.keys()].sort().map((k) => distinct.get(k));
  }
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k], volatile, lists, k)]),
    );
  if (key && volatile.has(key) && typeof v === 'string') return '<volatile>';
  return v;
}
