/**
 * Realistic changes for the demo's OLTP schema: an insurer's policies, claims against them,
 * and card transactions on the holders' accounts, a chosen share of which trip one of the
 * fraud rules (amount over 50000, a country other than the account's, 23:00-05:00 UTC).
 * Pure and deterministic for a seed: no I/O, the clock is passed in.
 */
import { seededRandom } from '@tideway/runtime';

export type FraudRule = 'amount-over-threshold' | 'country-mismatch' | 'night-hours';
export const FRAUD_RULES: readonly FraudRule[] = ['amount-over-threshold', 'country-mismatch', 'night-hours'];
/** The threshold of the amount-over-threshold rule (amount > this). */
export const FRAUD_AMOUNT_THRESHOLD = 50_000;

export interface PolicyRow {
  policy_id: string;
  holder_name: string;
  holder_country: string;
  product: 'auto' | 'home' | 'travel' | 'health';
  premium: string;
  status: 'active' | 'lapsed' | 'cancelled';
  starts_on: string;
}
export interface ClaimRow {
  claim_id: string;
  policy_id: string;
  amount: string;
  status: 'filed' | 'assessed' | 'paid' | 'rejected';
  description: string;
}
export interface TransactionRow {
  txn_id: string;
  account_id: string;
  policy_id: string;
  amount: string;
  currency: string;
  country: string;
  account_country: string;
  ts: string;
}

export type Change =
  | { table: 'policies'; op: 'c'; row: PolicyRow }
  | { table: 'policies'; op: 'u'; key: string; set: Pick<PolicyRow, 'status' | 'premium'> }
  | { table: 'claims'; op: 'c'; row: ClaimRow }
  | { table: 'claims'; op: 'u'; key: string; set: Pick<ClaimRow, 'status' | 'amount'> }
  | { table: 'transactions'; op: 'c'; row: TransactionRow; fraud?: FraudRule };

export interface GeneratorOptions {
  seed: number;
  /** Share of transactions that trip a fraud rule, 0..1. */
  fraudRatio: number;
  idPrefix?: string;
}

const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'NL', 'BE', 'PT', 'IE', 'GB', 'US'] as const;
const CURRENCY: Record<string, string> = { GB: 'GBP', US: 'USD' };
const FIRST = ['Alice', 'Bruno', 'Chloé', 'Diego', 'Emma', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kenji', 'Lea', 'Marta', 'Nils', 'Olga', 'Paulo'];
const LAST = ['Martin', 'Schmidt', 'García', 'Rossi', 'de Vries', 'Peeters', 'Silva', 'Murphy', 'Smith', 'Johnson', 'Dubois', 'Weber'];
const PRODUCTS = ['auto', 'home', 'travel', 'health'] as const;
const CLAIM_TEXT: Record<PolicyRow['product'], string[]> = {
  auto: ['rear-end collision', 'windscreen crack', 'parking damage', 'stolen catalytic converter'],
  home: ['water damage from a burst pipe', 'storm damage to the roof', 'burglary', 'kitchen fire'],
  travel: ['cancelled flight', 'lost luggage', 'medical treatment abroad', 'missed connection'],
  health: ['physiotherapy', 'dental treatment', 'hospital stay', 'prescription glasses'],
};
/** The next status of a claim's life cycle. */
const CLAIM_NEXT: Record<ClaimRow['status'], ClaimRow['status'] | undefined> = { filed: 'assessed', assessed: 'paid', paid: undefined, rejected: undefined };

interface KnownPolicy {
  id: string;
  country: string;
  account: string;
  product: PolicyRow['product'];
  premium: number;
  status: PolicyRow['status'];
}
interface KnownClaim {
  id: string;
  status: ClaimRow['status'];
  amount: number;
}

/** UTC hour of the night-hours rule: 23:00 to 05:00. */
export function isNightHourUtc(d: Date): boolean {
  const h = d.getUTCHours();
  return h >= 23 || h < 5;
}

/** `now` when it is daytime (05:00-23:00 UTC), else the previous 22:xx: a normal transaction never trips night-hours. */
export function daytime(now: Date): Date {
  const h = now.getUTCHours();
  if (!isNightHourUtc(now)) return now;
  return new Date(now.getTime() - ((h + 2) % 24) * 3_600_000);
}

/** `now` when it is night, else 02:xx of the same UTC day. */
export function nightTime(now: Date): Date {
  if (isNightHourUtc(now)) return now;
  return new Date(now.getTime() - (now.getUTCHours() - 2) * 3_600_000);
}

export function money(n: number): string {
  return n.toFixed(2);
}

export class ChangeGenerator {
  private readonly random: () => number;
  private readonly prefix: string;
  private readonly policies: KnownPolicy[] = [];
  private readonly openClaims: KnownClaim[] = [];
  private seq = 0;

  constructor(private readonly opts: GeneratorOptions) {
    this.random = seededRandom(opts.seed);
    this.prefix = opts.idPrefix ? `${opts.idPrefix}-` : '';
  }

  /** The next `count` changes, in the order they must be applied. */
  take(count: number, now: Date): Change[] {
    const out: Change[] = [];
    for (let i = 0; i < count; i++) out.push(this.next(now));
    return out;
  }

  next(now: Date): Change {
    const active = this.policies.filter((p) => p.status === 'active');
    if (active.length < 5) return this.newPolicy(now);
    const r = this.random();
    if (r < 0.12) return this.newPolicy(now);
    if (r < 0.2) return this.updatePolicy();
    if (r < 0.4) return this.newClaim(active);
    if (r < 0.55 && this.openClaims.length > 0) return this.advanceClaim();
    return this.transaction(active, now);
  }

  private id(kind: string): string {
    this.seq += 1;
    return `${this.prefix}${kind}-${String(this.seq).padStart(7, '0')}`;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private between(min: number, max: number): number {
    return min + this.random() * (max - min);
  }

  private newPolicy(now: Date): Change {
    const country = this.pick(COUNTRIES);
    const product = this.pick(PRODUCTS);
    const policy: KnownPolicy = {
      id: this.id('POL'),
      country,
      account: this.id('ACC'),
      product,
      premium: Math.round(this.between(120, 2400)),
      status: 'active',
    };
    this.policies.push(policy);
    const starts = new Date(now.getTime() - Math.floor(this.between(0, 700)) * 86_400_000);
    return {
      table: 'policies',
      op: 'c',
      row: {
        policy_id: policy.id,
        holder_name: `${this.pick(FIRST)} ${this.pick(LAST)}`,
        holder_country: country,
        product,
        premium: money(policy.premium),
        status: 'active',
        starts_on: starts.toISOString().slice(0, 10),
      },
    };
  }

  private updatePolicy(): Change {
    const p = this.pick(this.policies);
    // Renewals change the premium; a few policies lapse or are cancelled.
    const r = this.random();
    if (p.status === 'active' && r < 0.2) p.status = r < 0.1 ? 'lapsed' : 'cancelled';
    else if (p.status !== 'active') p.status = 'active';
    else p.premium = Math.round(p.premium * this.between(0.95, 1.12));
    return { table: 'policies', op: 'u', key: p.id, set: { status: p.status, premium: money(p.premium) } };
  }

  private newClaim(active: KnownPolicy[]): Change {
    const p = this.pick(active);
    const claim: KnownClaim = { id: this.id('CLM'), status: 'filed', amount: Math.round(this.between(80, 25_000) * 100) / 100 };
    this.openClaims.push(claim);
    return {
      table: 'claims',
      op: 'c',
      row: { claim_id: claim.id, policy_id: p.id, amount: money(claim.amount), status: 'filed', description: this.pick(CLAIM_TEXT[p.product]) },
    };
  }

  private advanceClaim(): Change {
    const i = Math.floor(this.random() * this.openClaims.length);
    const c = this.openClaims[i];
    const rejected = c.status === 'filed' && this.random() < 0.15;
    c.status = rejected ? 'rejected' : (CLAIM_NEXT[c.status] ?? c.status);
    // Assessment settles the amount, usually a little under what was claimed.
    if (c.status === 'assessed') c.amount = Math.round(c.amount * this.between(0.6, 1) * 100) / 100;
    if (!CLAIM_NEXT[c.status]) this.openClaims.splice(i, 1);
    return { table: 'claims', op: 'u', key: c.id, set: { status: c.status, amount: money(c.amount) } };
  }

  private transaction(active: KnownPolicy[], now: Date): Change {
    const p = this.pick(active);
    const fraud = this.random() < this.opts.fraudRatio ? this.pick(FRAUD_RULES) : undefined;
    let amount = this.between(3, 4_000);
    let country = p.country;
    let ts = daytime(now);
    if (fraud === 'amount-over-threshold') amount = this.between(FRAUD_AMOUNT_THRESHOLD + 1, 150_000);
    if (fraud === 'country-mismatch') country = this.pick(COUNTRIES.filter((c) => c !== p.country));
    if (fraud === 'night-hours') ts = nightTime(now);
    const row: TransactionRow = {
      txn_id: this.id('TXN'),
      account_id: p.account,
      policy_id: p.id,
      amount: money(amount),
      currency: CURRENCY[country] ?? 'EUR',
      country,
      account_country: p.country,
      ts: ts.toISOString(),
    };
    return fraud ? { table: 'transactions', op: 'c', row, fraud } : { table: 'transactions', op: 'c', row };
  }
}

/** Which fraud rules a transaction trips, by the rules' own definitions (for tests and summaries). */
export function fraudRulesTripped(row: TransactionRow): FraudRule[] {
  const out: FraudRule[] = [];
  if (Number(row.amount) > FRAUD_AMOUNT_THRESHOLD) out.push('amount-over-threshold');
  if (row.country !== row.account_country) out.push('country-mismatch');
  if (isNightHourUtc(new Date(row.ts))) out.push('night-hours');
  return out;
}
