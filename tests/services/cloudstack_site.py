"""Builds CloudStack-shaped scenarios (zones, stores, templates, template_store_ref rows, SSVMs) in a
test database, with the enums and timings of cloudstack.md §2. Times are relative to the database's
own UTC clock, as CloudStack stores GMT."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tests.services.mariadb import MariaDB

_ids = itertools.count(1)


class Site:
    def __init__(self, server: MariaDB, database: str) -> None:
        self.server = server
        self.database = database

    def _insert(self, table: str, **values: Any) -> int:
        cols = ", ".join(values)
        marks = ", ".join("%s" for _ in values)
        with self.server.connect(self.database) as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(values.values()))
            return int(cur.lastrowid)

    def sql(self, statement: str, *args: Any) -> None:
        with self.server.connect(self.database) as conn, conn.cursor() as cur:
            cur.execute(statement, args or None)

    def value(self, query: str, *args: Any) -> Any:
        """The first column of the first row of ``query``."""
        with self.server.connect(self.database) as conn, conn.cursor() as cur:
            cur.execute(query, args or None)
            row = cur.fetchone()
            return None if row is None else (row[0] if isinstance(row, tuple) else next(iter(row.values())))

    def version(self, *versions: str) -> None:
        self.server.set_version(self.database, *versions)

    def setting(self, name: str, value: str | None, default: str, category: str = "Advanced") -> None:
        self._insert(
            "configuration", category=category, instance="DEFAULT", name=name, value=value, default_value=default
        )

    def zone(self, name: str, *, enabled: bool = True, type: str = "Core") -> int:
        extra = {} if type == "Core" else {"type": type}  # 4.17 has no type column; Core is the default
        return self._insert(
            "data_center",
            name=name,
            uuid=str(uuid.uuid4()),
            allocation_state="Enabled" if enabled else "Disabled",
            **extra,
        )

    def store(
        self,
        zone_id: int | None,
        name: str,
        *,
        url: str = "nfs://10.0.0.5/export/secondary",
        role: str = "Image",
        readonly: int = 0,
        provider: str = "NFS",
    ) -> int:
        return self._insert(
            "image_store",
            name=name,
            image_provider_name=provider,
            protocol=url.split(":", 1)[0],
            url=url,
            data_center_id=zone_id,
            scope="ZONE",
            role=role,
            uuid=str(uuid.uuid4()),
            created="2024-01-01 00:00:00",
            readonly=readonly,
        )

    def template(
        self,
        name: str,
        *,
        checksum: str | None = None,
        cross_zones: int = 0,
        size: int = 10 * 2**30,
        type: str = "USER",
        fmt: str = "QCOW2",
        direct_download: int = 0,
        url: str | None = None,
        id: int | None = None,
    ) -> int:
        n = next(_ids)
        tid = self._insert(
            "vm_template",
            **({"id": id} if id is not None else {}),
            unique_name=f"{n}-2-{uuid.uuid4()}",
            name=name,
            uuid=str(uuid.uuid4()),
            public=1,
            featured=0,
            type=type,
            hvm=1,
            bits=64,
            url=url or f"http://templates.example.org/{name}.qcow2",
            format=fmt,
            created="2024-01-01 00:00:00",
            account_id=2,
            checksum=checksum,
            display_text=name,
            guest_os_id=1,
            cross_zones=cross_zones,
            hypervisor_type="KVM",
            size=size,
            state="Active",
            direct_download=direct_download,
        )
        return tid

    def ref(
        self,
        template_id: int,
        store_id: int | None,
        *,
        download_state: str = "DOWNLOADED",
        state: str = "Ready",
        pct: int | None = 100,
        size: int | None = 10 * 2**30,
        physical_size: int | None = 2 * 2**30,
        error_str: str | None = "Install completed successfully",
        minutes_ago: float | None = 0.0,
        destroyed: int = 0,
        install_path: str | None = None,
    ) -> int:
        rid = self._insert(
            "template_store_ref",
            store_id=store_id,
            template_id=template_id,
            created="2024-01-01 00:00:00",
            download_pct=pct,
            size=size,
            physical_size=physical_size,
            store_role="Image",
            download_state=download_state,
            error_str=error_str,
            install_path=install_path or f"template/tmpl/2/{template_id}/{uuid.uuid4()}.qcow2",
            url=None,
            state=state,
            destroyed=destroyed,
        )
        if minutes_ago is not None:
            self.sql(
                "UPDATE template_store_ref SET last_updated = UTC_TIMESTAMP() - INTERVAL %s SECOND WHERE id = %s",
                int(minutes_ago * 60),
                rid,
            )
        return rid

    def stalled(self, store_id: int, name: str = "stalled", *, pct: int = 40, minutes_ago: float = 180) -> int:
        """A template whose download sits in DOWNLOAD_IN_PROGRESS, last updated ``minutes_ago``."""
        t = self.template(name)
        self.ref(
            t,
            store_id,
            download_state="DOWNLOAD_IN_PROGRESS",
            state="Creating",
            pct=pct,
            size=0,
            physical_size=0,
            error_str=f"{pct}% Downloaded",
            minutes_ago=minutes_ago,
        )
        return t

    def network(self, zone_id: int, traffic_type: str) -> int:
        return self._insert(
            "networks", name=f"{traffic_type}-{zone_id}", traffic_type=traffic_type, data_center_id=zone_id
        )

    def ssvm(
        self,
        zone_id: int,
        name: str,
        *,
        vm_state: str = "Running",
        agent_status: str | None = "Up",
        ping_age_s: int = 10,
        ips: dict[str, str] | None = None,
    ) -> int:
        vm_id = self._insert(
            "vm_instance",
            name=name,
            uuid=str(uuid.uuid4()),
            instance_name=name,
            state=vm_state,
            host_id=1 if vm_state == "Running" else None,
            data_center_id=zone_id,
            type="SecondaryStorageVm",
            created="2024-01-01 00:00:00",
        )
        self._insert(
            "secondary_storage_vm",
            id=vm_id,
            public_ip_address=(ips or {}).get("Public"),
            guid=f"s-{vm_id}-VM-NfsSecondaryStorageResource",
            nfs_share="nfs://10.0.0.5/export/secondary",
        )
        if agent_status is not None:
            hid = self._insert(
                "host",
                name=name,
                uuid=str(uuid.uuid4()),
                status=agent_status,
                type="SecondaryStorageVM",
                private_ip_address=(ips or {}).get("Management", "10.1.0.20"),
                data_center_id=zone_id,
                version="4.18.1.0",
                created="2024-01-01 00:00:00",
            )
            self.sql(
                "UPDATE host SET last_ping = (FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) >> 10) - %s WHERE id = %s",
                ping_age_s,
                hid,
            )
        for traffic, ip in (
            ips or {"Control": "169.254.3.4", "Management": "10.1.0.20", "Public": "192.0.2.20"}
        ).items():
            self._insert("nics", instance_id=vm_id, ip4_address=ip, network_id=self.network(zone_id, traffic))
        return vm_id

    def healthy_zone(self, name: str = "zone-ok") -> dict[str, int]:
        """An enabled zone with one store, a running SSVM and a ready template: no findings expected."""
        z = self.zone(name)
        s = self.store(z, f"{name}-nfs")
        self.ssvm(z, f"s-{z}0-VM")
        t = self.template(f"{name}-debian", checksum="{SHA-256}" + "ab" * 32)
        self.ref(t, s)
        return {"zone": z, "store": s, "template": t}
