"""Rebuild tests/services/cloudstack_schema/<version>.sql from CloudStack's own source.

Not run by the tests (they load the .sql files). Run it by hand when a CloudStack version is added:

    python -m tests.services.cloudstack_schema.rebuild /path/to/cloudstack/git-dir

For each version it exports CloudStack's files at the release commit (``git archive``), loads them into a
throwaway MariaDB the way a fresh install does — ``setup/db/create-schema.sql``, ``templates.sql`` and
``create-schema-premium.sql`` (what ``cloud-setup-databases`` runs), then the database upgrade that the
management server performs at its first start (``DatabaseUpgradeChecker``: the stored procedures in
``META-INF/db/procedures``, every upgrade of ``DatabaseVersionHierarchy`` from 4.0.0 to the version —
its prepare script, the schema changes its Java ``performDataMigration`` makes (``JAVA_DDL`` below,
transcribed from each class), its cleanup script — then ``META-INF/db/views``) — and writes
``SHOW CREATE TABLE`` of the tables csdiag reads, with the rows CloudStack's scripts leave in
``vm_template``. CloudStack's SQL is never copied into this repository; only the resulting DDL is.
Scripts are split and run as CloudStack's ``utils/db/ScriptRunner`` does (a statement ends at a line
ending in ``;``; ``--``, ``//`` and ``#`` lines are skipped).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def _method(text, name):
    m = re.search(name + r"\(\)\s*\{(.*?)\n    \}", text, re.S)
    return m.group(1) if m else None


def path(src: Path, target: str):
    up = src / "engine/schema/src/main/java/com/cloud/upgrade"
    chk = (up / "DatabaseUpgradeChecker.java").read_text()
    nodes = re.findall(r'\.next\("([\d.]+)"\s*,\s*new (\w+)\(\)\)', chk)
    out, seen = [], set()
    for ver, cls in nodes:
        if not (vkey(ver) >= vkey("4.0.0") and vkey(ver) < vkey(target)):
            continue
        chain, name = [], cls
        while name:
            t = (up / "dao" / f"{name}.java").read_text()
            chain.append(t)
            m = re.search(r"class \w+ extends (Upgrade\w+)", t)
            name = m.group(1) if m else None

        def find(meth, chain=chain):
            for t in chain:
                body = _method(t, meth)
                if body is not None:
                    return body
            return None

        upgraded = re.search(r'return "([\d.]+)"', find("getUpgradedVersion")).group(1)
        if upgraded in seen:
            continue
        seen.add(upgraded)
        rng = re.findall(r'"([\d.]+)"', find("getUpgradableVersionRange"))
        scripts = []
        for meth, suffix in (("getPrepareScripts", ""), ("getCleanupScripts", "-cleanup")):
            body = find(meth)
            if body is None:  # the interface's default (4.20+)
                scripts.append([f"schema-{rng[0].replace('.', '')}to{rng[1].replace('.', '')}{suffix}.sql"])
            else:
                scripts.append(re.findall(r'"META-INF/db/([\w.-]+\.sql)"', body))
        out.append((ver, cls, upgraded, scripts[0], scripts[1]))
    return out


def statements(text):
    """Split a script the way CloudStack's ScriptRunner does (utils/db/ScriptRunner.java)."""
    command = []
    for line in text.splitlines():
        t = line.strip()
        if not t or t.startswith(("--", "//", "#")):
            continue
        if t.endswith(";"):
            command.append(line[: line.rindex(";")])
            yield " ".join(command)
            command = []
        else:
            i = line.find("--")
            command.append(line[:i] if i != -1 else line)


def run(server, src_file, db="cloud", log=None):
    text = Path(src_file).read_text(errors="replace")
    with server.connect(db) as c, c.cursor() as cur:
        for st in statements(text):
            try:
                cur.execute(st)
                cur.fetchall()
            except Exception as e:
                return 1, f"{e} :: {st[:300]}"
    return 0, ""


def ix(table, *cols):
    """DbUpgradeUtils.addIndexIfNeeded -> DatabaseAccessObject.createIndex (name i_<table>__<cols>)."""
    return f"CREATE INDEX i_{table}__{'__'.join(cols)} ON {table} ({', '.join(cols)})"


def fk(table, col, ft, fc):
    """DatabaseAccessObject.addForeignKey."""
    return f"ALTER TABLE `cloud`.`{table}` ADD CONSTRAINT `fk_{table}__{col}` FOREIGN KEY `fk_{table}__{col}`(`{col}`) REFERENCES `{ft}`(`{fc}`)"


# Schema changes the Java upgrade classes make in performDataMigration (after their prepare script),
# transcribed from engine/schema/src/main/java/com/cloud/upgrade/dao/<Class>.java; the marker must be in
# that class at the version being built. Errors are ignored, as the Java code catches or pre-checks them.
JAVA_DDL = {
    "Upgrade410to420": (
        "i_alert__last_sent",
        [
            "ALTER TABLE alert DROP KEY last_sent",
            "ALTER TABLE alert DROP KEY i_alert__last_sent",
            "ALTER TABLE `cloud`.`alert` ADD INDEX `i_alert__last_sent`(`last_sent`)",
            "ALTER TABLE `cloud`.`host_details` ADD INDEX `fk_host_details__host_id` (`host_id`)",
        ],
    ),
    "Upgrade430to440": (
        "download_url_created",
        [
            "ALTER TABLE `cloud`.`template_store_ref` ADD COLUMN `download_url_created` datetime",
            "ALTER TABLE `cloud`.`template_store_ref` ADD COLUMN `download_url` varchar(255)",
            "ALTER TABLE `cloud`.`volume_store_ref` ADD COLUMN `download_url_created` datetime",
        ],
    ),
    "Upgrade452to460": (
        "i_vm_instance__instance_name",
        [
            "ALTER TABLE `cloud`.`vpc_offerings` ADD COLUMN `redundant_router_service` tinyint(1) DEFAULT 0",
            "ALTER TABLE `cloud`.`vpc` ADD COLUMN `redundant` tinyint(1) DEFAULT 0",
            "ALTER TABLE `cloud`.`networks` ADD COLUMN `redundant` tinyint(1) DEFAULT 0",
            "ALTER TABLE `cloud`.`domain_router` DROP COLUMN `is_priority_bumpup`",
            "ALTER TABLE vm_instance DROP KEY i_vm_instance__instance_name",
            "ALTER TABLE `cloud`.`vm_instance` ADD INDEX `i_vm_instance__instance_name`(`instance_name`)",
        ],
    ),
    "Upgrade481to490": (
        "fk_account__role_id",
        [
            "ALTER TABLE `cloud`.`account` ADD COLUMN `role_id` bigint(20) unsigned COMMENT 'role id for this account' AFTER `type`, "
            "ADD KEY `fk_account__role_id` (`role_id`), ADD CONSTRAINT `fk_account__role_id` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`)",
            "ALTER TABLE `cloud_usage`.`account` ADD COLUMN `role_id` bigint(20) unsigned AFTER `type`",
        ],
    ),
    # data, not schema: the final '*' DENY rule of the four roles it fills, which schema-41720to41800.sql needs
    "Upgrade41400to41500": (
        "'*', 'DENY'",
        [
            "INSERT INTO `cloud`.`role_permissions` (`uuid`, `role_id`, `rule`, `permission`, `sort_order`) SELECT UUID(), id, '*', 'DENY', 0 "
            "FROM `cloud`.`roles` WHERE name IN ('Read-Only Admin - Default', 'Read-Only User - Default', 'Support Admin - Default', 'Support User - Default')",
        ],
    ),
    "Upgrade41800to41810": (
        "fk_vm_template__user_data_id",
        [
            "ALTER TABLE cloud.user_vm DROP FOREIGN KEY fk_user_data_id",
            "ALTER TABLE cloud.user_vm DROP FOREIGN KEY fk_user_vm__user_data_id",
            "ALTER TABLE cloud.user_vm DROP KEY fk_user_data_id",
            "ALTER TABLE cloud.user_vm DROP KEY fk_user_vm__user_data_id",
            fk("user_vm", "user_data_id", "user_data", "id"),
            "ALTER TABLE cloud.vm_template DROP FOREIGN KEY fk_user_data_id",
            "ALTER TABLE cloud.vm_template DROP FOREIGN KEY fk_vm_template__user_data_id",
            "ALTER TABLE cloud.vm_template DROP KEY fk_user_data_id",
            "ALTER TABLE cloud.vm_template DROP KEY fk_vm_template__user_data_id",
            fk("vm_template", "user_data_id", "user_data", "id"),
            "ALTER TABLE cloud.volumes DROP FOREIGN KEY fk_passphrase_id",
            "ALTER TABLE cloud.volumes DROP FOREIGN KEY fk_volumes__passphrase_id",
            "ALTER TABLE cloud.volumes DROP KEY fk_passphrase_id",
            "ALTER TABLE cloud.volumes DROP KEY fk_volumes__passphrase_id",
            fk("volumes", "passphrase_id", "passphrase", "id"),
            fk("autoscale_vmprofiles", "user_data_id", "user_data", "id"),
        ],
    ),
    "Upgrade41800to41810#ix": ('addIndexIfNeeded(conn, "cluster_details", "name")', [ix("cluster_details", "name")]),
    "Upgrade41810to41900": (
        'addIndexIfNeeded(conn, "alert", "archived", "created")',
        [
            ix("alert", "archived", "created"),
            ix("alert", "type", "data_center_id", "pod_id"),
            ix("event", "resource_type", "resource_id"),
        ],
    ),
    "Upgrade41810to41900#fk": ("remover_account_id", [fk("quarantined_ips", "remover_account_id", "account", "id")]),
    "Upgrade41810to41900#backups": (
        "old_date",
        [
            "ALTER TABLE `cloud`.`backups` CHANGE COLUMN `date` `old_date` varchar(255)",
            "ALTER TABLE `cloud`.`backups` ADD COLUMN `date` DATETIME",
            "ALTER TABLE `cloud`.`backups` DROP COLUMN `old_date`",
        ],
    ),
    "Upgrade41900to41910": ('"vm_stats", "vm_id"', [ix("vm_stats", "vm_id")]),
    "Upgrade42000to42010": (
        '"host", "mgmt_server_id"',
        [
            ix("host", "mgmt_server_id"),
            ix("host", "resource"),
            ix("host", "resource_state"),
            ix("host", "type"),
            "ALTER TABLE user_ip_address RENAME INDEX public_ip_address TO uk_public_ip_address",
            ix("user_ip_address", "public_ip_address"),
            ix("user_ip_address", "data_center_id"),
            ix("user_ip_address", "vlan_db_id"),
            ix("user_ip_address", "removed"),
            ix("vlan", "vlan_type"),
            ix("vlan", "data_center_id"),
            ix("vlan", "removed"),
            ix("network_offering_details", "name"),
            ix("service_offering", "cpu"),
            ix("service_offering", "speed"),
            ix("service_offering", "ram_size"),
            ix("op_host_planner_reservation", "resource_usage"),
            ix("storage_pool", "pool_type"),
            ix("storage_pool", "data_center_id", "status", "scope", "hypervisor"),
            ix("router_network_ref", "guest_type"),
            ix("domain_router", "role"),
            ix("async_job", "instance_type", "job_status"),
            ix("cluster", "managed_state"),
        ],
    ),
    "Upgrade42010to42100": (
        "new_scope",
        [
            "ALTER TABLE configuration ADD COLUMN new_scope BIGINT DEFAULT 0",
            "ALTER TABLE configuration DROP COLUMN scope",
            "ALTER TABLE configuration CHANGE COLUMN new_scope scope BIGINT NOT NULL DEFAULT 0 COMMENT 'Bitmask for scope(s) of this parameter'",
        ],
    ),
}


def java_ddl(server, src, cls):
    d = src / "engine/schema/src/main/java/com/cloud/upgrade/dao"
    chain, name = {}, cls
    while name:  # the class and the upgrade classes it extends
        chain[name] = (d / f"{name}.java").read_text()
        m = re.search(r"class \w+ extends (Upgrade\w+)", chain[name])
        name = m.group(1) if m else None
    done = []
    for key, (marker, stmts) in JAVA_DDL.items():
        k = key.split("#")[0]
        if k not in chain or marker not in chain[k]:
            continue
        with server.connect("cloud") as c, c.cursor() as cur:
            for st in stmts:
                try:
                    cur.execute(st)
                    done.append((st[:80], "ok"))
                except Exception as e:
                    done.append((st[:80], str(e)[:80]))
    return done


def build(server, ver_dir, target):
    src = Path(ver_dir)
    db = src / "engine/schema/src/main/resources/META-INF/db"
    server.execute(
        [
            "DROP DATABASE IF EXISTS cloud",
            "DROP DATABASE IF EXISTS cloud_usage",
            "CREATE DATABASE cloud",
            "CREATE DATABASE cloud_usage",
        ]
    )
    log = []
    for f in ("create-schema.sql", "templates.sql", "create-schema-premium.sql"):
        log.append((f, *run(server, src / "setup/db" / f)))
    for p in sorted((db / "procedures").glob("*.sql")) if (db / "procedures").exists() else []:
        log.append((p.name, *run(server, p)))
    for _ver, cls, upgraded, prep, clean in path(src, target):
        for s in prep:
            log.append((s, *run(server, db / s)))
        java_ddl(server, src, cls)  # (statement, outcome) pairs: failures are expected (pre-checked in Java)
        for s in clean:
            if (db / s).exists():
                log.append((s, *run(server, db / s)))
            else:
                log.append((s, 99, "MISSING"))
        server.execute(
            f"INSERT INTO version (version, updated, step) VALUES ('{upgraded}', NOW(), 'Complete')", database="cloud"
        )
    for p in sorted((db / "views").glob("*.sql")) if (db / "views").exists() else []:
        log.append((p.name, *run(server, p)))
    return log


# version label -> (release commit, version the management server of that commit runs)
VERSIONS = {
    "4.18": ("4bdff06acd3630180f85ffe2f54add972607bbb4", "4.18.1.0"),
    "4.19": ("2746225b999612f156e421199e34ef8de98a3664", "4.19.0.0"),
    "4.20": ("2fe3fcef7c77cf9a1b629c9df3afc0cdb88ad4f6", "4.20.0.0"),
    "4.22": ("71f47d61304d1a05627bc335c8d35d7ef1040fe1", "4.22.0.0"),
    "main": ("b0601e5478624f8d6c42c70125449d9b1a9401ba", "4.23.0.0"),
}
# The tables csdiag reads (checks/*.py, diagnostics/inventory.py), in an order that loads.
TABLES = (
    "version",
    "configuration",
    "data_center",
    "mshost",
    "cluster",
    "image_store",
    "image_store_details",
    "vm_template",
    "template_store_ref",
    "host",
    "vm_instance",
    "secondary_storage_vm",
    "networks",
    "nics",
    "alert",
    "direct_download_certificate",
    "direct_download_certificate_host_map",
    "heuristics",
)
EXPORT = ("setup/db", "engine/schema/src/main/resources/META-INF/db", "engine/schema/src/main/java/com/cloud/upgrade")


def table_ddl(create: str) -> str:
    """SHOW CREATE TABLE as our DDL: no AUTO_INCREMENT counter; foreign keys kept as comments, because
    the tests load only the tables csdiag reads (the referenced tables are not all there)."""
    create = re.sub(r" AUTO_INCREMENT=\d+", "", create)
    lines = create.split("\n")
    fks = [ln.strip().rstrip(",") for ln in lines if re.match(r"\s+CONSTRAINT `[^`]+` FOREIGN KEY", ln)]
    kept = [ln for ln in lines if not re.match(r"\s+CONSTRAINT `[^`]+` FOREIGN KEY", ln)]
    body = "\n".join(kept)
    body = re.sub(r",\n\)", "\n)", body)
    notes = "".join(f"-- {fk}\n" for fk in fks)
    return notes + body + ";\n"


def _sql_value(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    if hasattr(v, "isoformat"):
        return "NOW()"  # templates.sql and the upgrade scripts write now()
    return "'" + str(v).replace("\\", "\\\\").replace("'", "''") + "'"


def write(server: Any, label: str, commit: str, target: str, out: Path) -> None:
    with server.connect("cloud") as c, c.cursor() as cur:
        parts = [
            f"-- CloudStack {label}: the `cloud` tables csdiag reads, as CloudStack {target} builds them.\n"
            f"-- Source: apache/cloudstack at commit {commit}: setup/db/create-schema.sql, templates.sql,\n"
            "-- create-schema-premium.sql, engine/schema/src/main/resources/META-INF/db/{procedures,schema-*to*.sql,views},\n"
            "-- the schema changes of engine/schema/src/main/java/com/cloud/upgrade/dao/Upgrade*.java, in the order of\n"
            "-- DatabaseUpgradeChecker's DatabaseVersionHierarchy from 4.0.0. Generated from SHOW CREATE TABLE on\n"
            "-- MariaDB by tests/services/cloudstack_schema/rebuild.py; foreign keys are kept as comments.\n"
        ]
        for t in TABLES:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'cloud' AND TABLE_NAME = %s", (t,)
            )
            if not cur.fetchone()[0]:
                parts.append(f"-- no table `{t}` in {target}\n")
                continue
            cur.execute(f"SHOW CREATE TABLE `{t}`")
            parts.append(table_ddl(cur.fetchone()[1]))
        cur.execute("SELECT * FROM vm_template ORDER BY id")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        parts.append(
            "-- The rows setup/db/templates.sql and the upgrade scripts leave in vm_template (the default\n"
            "-- system and builtin templates; created/updated times are now(), as the scripts write them).\n"
        )
        for r in rows:
            keep = [(c, v) for c, v in zip(cols, r, strict=True) if v is not None]
            parts.append(
                f"INSERT INTO vm_template ({', '.join('`' + c + '`' for c, _ in keep)}) VALUES "
                f"({', '.join(_sql_value(v) for _, v in keep)});\n"
            )
        cur.execute("SELECT version, step FROM version ORDER BY id")
        parts.append(
            "-- The version history of a fresh install: create-schema.sql's 4.0.0, then one row per upgrade.\n"
        )
        for v, step in cur.fetchall():
            parts.append(f"INSERT INTO version (version, updated, step) VALUES ('{v}', NOW(), '{step}');\n")
    out.write_text("\n".join(parts))


def main(git_dir: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.services.mariadb import mariadb_server

    here = Path(__file__).parent
    with tempfile.TemporaryDirectory() as tmp, mariadb_server(buffer_pool="128M") as server:
        for label, (commit, target) in VERSIONS.items():
            src = Path(tmp) / label
            src.mkdir()
            archive = subprocess.run(
                ["git", "-C", git_dir, "archive", commit, *EXPORT], capture_output=True, check=True
            )
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
            log = build(server, src, target)
            failed = [entry for entry in log if entry[1] != 0]
            print(f"{label}: {len(log)} scripts, {len(failed)} failed", *(f"  {f}" for f in failed), sep="\n")
            write(server, label, commit, target, here / f"{label}.sql")


if __name__ == "__main__":
    main(sys.argv[1])
