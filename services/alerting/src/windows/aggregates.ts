/**
 * Accumulators for count, sum, avg, min, max and count_distinct. Plain JSON so that window
 * state can be written to the changelog topic as it is. Pure functions.
 */
import type { AggregateSpec } from '../rules/rule-file';

/** One slot per aggregate: count/sum a number, avg [sum, count], min/max a number or null, count_distinct a set as an object. */
export type AccSlot = number | null | [number, number] | Record<string, 1>;
export type Accumulator = AccSlot[];
/** An event's input per aggregate: a number (sum/avg/min/max), a string (count_distinct) or null (field absent). */
export type ProjectedValue = number | string | null;
export type AggregateValues = Record<string, number | null>;

export function emptyAccumulator(specs: AggregateSpec[]): Accumulator {
  return specs.map((s) => {
    switch (s.fn) {
      case 'count':
      case 'sum':
        return 0;
      case 'avg':
        return [0, 0];
      case 'min':
      case 'max':
        return null;
      case 'count_distinct':
        return {};
    }
  });
}

/** Adds one event's projected values (same order as specs). Mutates and returns `acc`. */
export function accumulate(specs: AggregateSpec[], acc: Accumulator, values: ProjectedValue[]): Accumulator {
  for (let i = 0; i < specs.length; i++) {
    const v = values[i];
    switch (specs[i].fn) {
      case 'count':
        acc[i] = (acc[i] as number) + 1;
        break;
      case 'sum':
        if (typeof v === 'number') acc[i] = (acc[i] as number) + v;
        break;
      case 'avg':
        if (typeof v === 'number') {
          const a = acc[i] as [number, number];
          acc[i] = [a[0] + v, a[1] + 1];
        }
        break;
      case 'min':
        if (typeof v === 'number') acc[i] = acc[i] === null ? v : Math.min(acc[i] as number, v);
        break;
      case 'max':
        if (typeof v === 'number') acc[i] = acc[i] === null ? v : Math.max(acc[i] as number, v);
        break;
      case 'count_distinct':
        if (v !== null) (acc[i] as Record<string, 1>)[String(v)] = 1;
        break;
    }
  }
  return acc;
}

/** Combines two accumulators (session windows that an event bridges). Returns a new one. */
export function mergeAccumulators(specs: AggregateSpec[], a: Accumulator, b: Accumulator): Accumulator {
  return specs.map((s, i) => {
    const x = a[i];
    const y = b[i];
    switch (s.fn) {
      case 'count':
      case 'sum':
        return (x as number) + (y as number);
      case 'avg':
        return [(x as [number, number])[0] + (y as [number, number])[0], (x as [number, number])[1] + (y as [number, number])[1]];
      case 'min':
        return x === null ? y : y === null ? x : Math.min(x as number, y as number);
      case 'max':
        return x === null ? y : y === null ? x : Math.max(x as number, y as number);
      case 'count_distinct':
        return { ...(x as Record<string, 1>), ...(y as Record<string, 1>) };
    }
  });
}

/** Final values by aggregate name. avg/min/max of no numeric input are null. */
export function aggregateValues(specs: AggregateSpec[], acc: Accumulator): AggregateValues {
  const out: AggregateValues = {};
  specs.forEach((s, i) => {
    const slot = acc[i];
    switch (s.fn) {
      case 'count':
      case 'sum':
      case 'min':
      case 'max':
        out[s.name] = slot as number | null;
        break;
      case 'avg': {
        const [sum, n] = slot as [number, number];
        out[s.name] = n === 0 ? null : sum / n;
        break;
      }
      case 'count_distinct':
        out[s.name] = Object.keys(slot as Record<string, 1>).length;
        break;
    }
  });
  return out;
}
