-- docker compose: the warehouse database next to the OLTP database `app` (POSTGRES_DB).
CREATE DATABASE warehouse;
