-- The sample OLTP schema of `tideway demo`: an insurer's policies, the claims filed against
-- them, and the payment transactions on its accounts. Unqualified names: the tables go into
-- the first schema of the search_path (the demo sets DEMO_SCHEMA; compose uses public).
-- Idempotent: the demo runs it on start,
-- and docker compose runs it once when the PostgreSQL volume is created.
CREATE TABLE IF NOT EXISTS policies (
  policy_id      text PRIMARY KEY,
  holder_name    text        NOT NULL,
  holder_country char(2)     NOT NULL,
  product        text        NOT NULL CHECK (product IN ('auto', 'home', 'travel', 'health')),
  premium        numeric(12, 2) NOT NULL CHECK (premium >= 0),
  status         text        NOT NULL CHECK (status IN ('active', 'lapsed', 'cancelled')),
  starts_on      date        NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS claims (
  claim_id    text PRIMARY KEY,
  policy_id   text           NOT NULL REFERENCES policies (policy_id),
  amount      numeric(12, 2) NOT NULL CHECK (amount >= 0),
  status      text           NOT NULL CHECK (status IN ('filed', 'assessed', 'paid', 'rejected')),
  description text           NOT NULL,
  created_at  timestamptz    NOT NULL DEFAULT now(),
  updated_at  timestamptz    NOT NULL DEFAULT now()
);

-- Payments on a policy holder's account; `country` is where the card was used,
-- `account_country` the account's home country (the fraud rules compare the two).
CREATE TABLE IF NOT EXISTS transactions (
  txn_id          text PRIMARY KEY,
  account_id      text           NOT NULL,
  policy_id       text           REFERENCES policies (policy_id),
  amount          numeric(12, 2) NOT NULL,
  currency        char(3)        NOT NULL,
  country         char(2)        NOT NULL,
  account_country char(2)        NOT NULL,
  ts              timestamptz    NOT NULL DEFAULT now()
);

-- Full before-images in change events for updates and deletes.
ALTER TABLE policies REPLICA IDENTITY FULL;
ALTER TABLE claims REPLICA IDENTITY FULL;
ALTER TABLE transactions REPLICA IDENTITY FULL;
