import { firehoseData } from '../../src/firehose/firehose-sink';

describe('firehoseData', () => {
  it('appends a newline unless the record already ends with one', () => {
    expect(firehoseData(Buffer.from('{"a":1}'), true).toString()).toBe('{"a":1}\n');
    expect(firehoseData(Buffer.from('{"a":1}\n'), true).toString()).toBe('{"a":1}\n');
    expect(firehoseData(Buffer.from('raw'), false).toString()).toBe('raw');
  });
});
