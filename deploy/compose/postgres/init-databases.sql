-- One role and one database per service (ARCHITECTURE §1: no service reads another's tables).
-- Runs once, when the postgres container initialises an empty data volume.
-- DEVELOPMENT PASSWORDS ONLY; they match the *_DATABASE_URL values in docker-compose.yml.

CREATE ROLE intake LOGIN PASSWORD 'intake-dev-password';
CREATE DATABASE intake OWNER intake;

CREATE ROLE casework LOGIN PASSWORD 'casework-dev-password';
CREATE DATABASE casework OWNER casework;

CREATE ROLE referrals LOGIN PASSWORD 'referrals-dev-password';
CREATE DATABASE referrals OWNER referrals;

CREATE ROLE statistics LOGIN PASSWORD 'statistics-dev-password';
CREATE DATABASE statistics OWNER statistics;

-- Nobody but the owner connects to a service's database.
REVOKE CONNECT ON DATABASE intake, casework, referrals, statistics FROM PUBLIC;
