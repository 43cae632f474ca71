import { parseTopicSelector, selectTopics } from '../src/topics';

describe('DWH_TOPICS', () => {
  it('reads a list of names', () => {
    expect(parseTopicSelector('a.changes, b.changes')).toEqual({ kind: 'names', names: ['a.changes', 'b.changes'] });
  });
  it('reads a regex between slashes and never selects dead-letter or internal topics', () => {
    const sel = parseTopicSelector('/\\.changes$/');
    expect(selectTopics(sel, ['b.changes', 'a.changes', 'a.changes.dlq', 'x.events', '__consumer_offsets'], '.dlq')).toEqual(['a.changes', 'b.changes']);
    expect(selectTopics(parseTopicSelector('/.*/'), ['a.changes', 'a.changes.dlq'], '.dlq')).toEqual(['a.changes']);
  });
  it('says what is wrong', () => {
    expect(() => parseTopicSelector('/[/')).toThrow(/regular expression/);
    expect(() => parseTopicSelector('a b')).toThrow(/not a valid topic name/);
    expect(() => parseTopicSelector(' , ')).toThrow(/no topic/);
  });
});
