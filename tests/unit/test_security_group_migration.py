"""Migration 0005 gives the security groups of an existing database the rules every group
starts with: all egress, and for an account's default group all ingress from its VPC
(on SQLite and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from podyard.store.db import MIGRATIONS, Database


def _upgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection_url"] = db.url
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_groups_without_rules_get_the_starting_rules(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    _upgrade(db, "0004")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (account_id, name, access_key, secret_key, verified, in_arrears, created_at) "
                "VALUES ('acct-1', 'a', 'AK', 'SK', TRUE, FALSE, :t)"
            ),
            {"t": t0},
        )
        for vpc_id, name, cidr in (("vpc-d", "default", "10.240.0.0/24"), ("vpc-o", "other", "10.0.0.0/16")):
            conn.execute(
                text(
                    "INSERT INTO vpcs (vpc_id, account_id, region, name, cidr, created_at) "
                    "VALUES (:v, 'acct-1', 'cn-north-1', :n, :c, :t)"
                ),
                {"v": vpc_id, "n": name, "c": cidr, "t": t0},
            )
        groups = (
            ("sg-default", "vpc-d", "default", t0),  # the default group: the first "default" of the default VPC
            ("sg-later", "vpc-d", "default", t0 + timedelta(seconds=5)),
            ("sg-web", "vpc-d", "web", t0 + timedelta(seconds=1)),
            ("sg-other", "vpc-o", "default", t0),
            ("sg-ruled", "vpc-o", "ruled", t0),
        )
        for group_id, vpc_id, name, t in groups:
            conn.execute(
                text(
                    "INSERT INTO security_groups (security_group_id, account_id, region, vpc_id, name, created_at) "
                    "VALUES (:g, 'acct-1', 'cn-north-1', :v, :n, :t)"
                ),
                {"g": group_id, "v": vpc_id, "n": name, "t": t},
            )
        conn.execute(
            text(
                "INSERT INTO security_group_rules (rule_id, security_group_id, position, direction, protocol, "
                "address_prefix, from_port, to_port, created_at) "
                "VALUES ('sgr-own', 'sg-ruled', 0, 0, 6, '10.0.0.0/8', 22, 22, :t)"
            ),
            {"t": t0},
        )
    _upgrade(db, "0005")
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT security_group_id, position, direction, protocol, address_prefix, from_port, to_port, "
                "priority, rule_id FROM security_group_rules ORDER BY security_group_id, position"
            )
        ).all()
        defaults = dict(conn.execute(text("SELECT security_group_id, is_default FROM security_groups")).all())
    db.close()
    by_group: dict[str, list[tuple[object, ...]]] = {}
    for r in rows:
        by_group.setdefault(r[0], []).append(tuple(r[1:8]))
    everything_out = (1, 300, "0.0.0.0/0", 0, 0, 100)
    assert by_group == {
        "sg-default": [(0, 0, 300, "10.240.0.0/24", 0, 0, 100), (1, *everything_out)],
        "sg-later": [(0, *everything_out)],
        "sg-web": [(0, *everything_out)],
        "sg-other": [(0, *everything_out)],
        "sg-ruled": [(0, 0, 6, "10.0.0.0/8", 22, 22, 100)],  # a group with rules keeps them, and only them
    }
    assert {g for g, d in defaults.items() if d} == {"sg-default"}
    new_ids = [r[8] for r in rows if r[8] != "sgr-own"]
    assert len(set(new_ids)) == len(new_ids) and all(i.startswith("sgr-") for i in new_ids)
