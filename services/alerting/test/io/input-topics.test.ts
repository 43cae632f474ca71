import { missingTopics } from '../../src/io/input-topics';

describe('missingTopics', () => {
  it('lists the wanted topics that do not exist, once each, sorted', () => {
    expect(missingTopics(['b', 'a', 'b', 'c'], ['c', 'x'])).toEqual(['a', 'b']);
    expect(missingTopics(['a'], ['a'])).toEqual([]);
  });
});
