"""Builds CloudStack scenarios in a database with CloudStack's real schema (tests/services/cloudstack_schema),
writing rows the way CloudStack writes them. Where a value comes from, in apache/cloudstack (main,
b0601e5478 unless noted):

- zones: ``ConfigurationManagerImpl.createZone`` (``dns1``/``internal_dns1`` required, ``networktype``
  ``Advanced``, ``allocation_state``, ``type`` Core/Edge).
- image stores: ``ImageStoreVO`` via ``ImageStoreHelper.createImageStore`` (``role`` Image, ``scope`` ZONE,
  ``protocol`` from the URL, ``readonly``).
- templates: ``VMTemplateVO`` (``unique_name`` = ``<id>-<account>-<name-based uuid>``; system VM templates
  ``routing-<id>``, registered by ``SystemVmTemplateRegistration``: private, cross-zone, type SYSTEM, named
  ``systemvm-<hv>-<X.Y.Z>[-<arch>]`` by ``engine/schema/templateConfig.sh``, checksum with its ``{ALG}``
  prefix, ``router.template.<hv>`` and ``minreq.sysvmtemplate.version`` updated).
- template copies: ``TemplateDataStoreVO`` as ``TemplateServiceImpl``/``DownloadListener`` leave them
  (Ready + DOWNLOADED with sizes and ``install_path`` ``template/tmpl/<account>/<id>/<uuid>.<ext>``;
  in progress: Creating + DOWNLOAD_IN_PROGRESS with ``download_pct``); direct download:
  ``TemplateDataStoreDaoImpl.createTemplateDirectDownloadEntry`` (no store, Ready, BYPASSED, size 0).
- SSVM agent rows: ``ResourceManagerImpl.createHostVO`` (``last_ping`` = connect time ms >> 10, written on
  connect only; ``mgmt_server_id`` = the management server's ``msid``; ``version`` the agent's).
- settings: ``configuration`` rows with the category and component of their ``ConfigKey``/``Config`` entry.

Times are relative to the database's own UTC clock, as CloudStack stores GMT.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from tests.services.mariadb import MariaDB

_ids = itertools.count(1)
MSID = 32985790838118  # a management server id (MAC-derived in CloudStack; any unsigned number)
# (category, component) of the settings the tests write, from their ConfigKey/Config definitions.
SETTING_HOMES = {
    "ping.interval": ("Advanced", "AgentManager"),
    "ping.timeout": ("Advanced", "AgentManager"),
    "secondary.storage.capacity.threshold": ("Advanced", "CapacityManager"),
    "zone.secstorage.capacity.notificationthreshold": ("Alert", "management-server"),
    "secstorage.vm.mtu.size": ("Advanced", "AgentManager"),
    "max.template.iso.size": ("Advanced", "management-server"),
    "minreq.sysvmtemplate.version": ("Advanced", "NetworkOrchestrationService"),
}
EXT = {"QCOW2": "qcow2", "VHD": "vhd", "OVA": "ova", "RAW": "raw", "ISO": "iso", "TAR": "tar"}


class Site:
    def __init__(self, server: MariaDB, database: str) -> None:
        self.server = server
        self.database = database
        self._columns: dict[str, set[str]] = {}
        self._system_networks: dict[tuple[int, str], int] = {}

    # --- plumbing -------------------------------------------------------------------------------------

    def columns(self, table: str) -> set[str]:
        if table not in self._columns:
            with self.server.connect(self.database) as conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (self.database, table),
                )
                self._columns[table] = {r[0] for r in cur.fetchall()}
        return self._columns[table]

    def _insert(self, table: str, **values: Any) -> int:
        """Insert the values whose columns this version's schema has (columns come and go by version)."""
        have = self.columns(table)
        values = {k: v for k, v in values.items() if k in have}
        cols = ", ".join(f"`{c}`" for c in values)
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

    def ago(self, column: str, table: str, row_id: int, seconds: float) -> None:
        """Set a DATETIME column to the database's UTC clock minus ``seconds``."""
        self.sql(
            f"UPDATE {table} SET {column} = UTC_TIMESTAMP() - INTERVAL %s SECOND WHERE id = %s", int(seconds), row_id
        )

    # --- the platform ---------------------------------------------------------------------------------

    def version(self, *versions: str) -> None:
        self.server.set_version(self.database, *versions)

    def setting(
        self, name: str, value: str | None, default: str | None, category: str | None = None, scope: Any = None
    ) -> None:
        cat, component = SETTING_HOMES.get(name, ("Advanced", "management-server"))
        self.sql("DELETE FROM configuration WHERE name = %s", name)
        extra: dict[str, Any] = {}
        if scope is not None:
            extra["scope"] = scope
        self._insert(
            "configuration",
            category=category or cat,
            instance="DEFAULT",
            component=component,
            name=name,
            value=value,
            default_value=default,
            description=name,
            is_dynamic=1,
            **extra,
        )

    def mshost(self, version: str = "4.22.0.0", state: str = "Up") -> int:
        return self._insert(
            "mshost",
            msid=MSID,
            runid=1,
            name="mgmt-1",
            uuid=str(uuid.uuid4()),
            state=state,
            version=version,
            service_ip="192.0.2.10",
            service_port=9090,
            last_update="2024-01-01 00:00:00",
        )

    def zone(self, name: str, *, enabled: bool = True, type: str = "Core") -> int:
        return self._insert(
            "data_center",
            name=name,
            uuid=str(uuid.uuid4()),
            dns1="192.0.2.53",
            internal_dns1="192.0.2.53",
            networktype="Advanced",
            allocation_state="Enabled" if enabled else "Disabled",
            type=type,
        )

    def cluster(self, zone_id: int, hypervisor: str = "KVM", name: str | None = None) -> int:
        """A cluster: template sync copies system and builtin templates only for hypervisors of a zone's
        clusters (TemplateServiceImpl, ClusterDao.getAvailableHypervisorInZone)."""
        return self._insert(
            "cluster",
            name=name or f"{hypervisor.lower()}-cluster-{zone_id}",
            uuid=str(uuid.uuid4()),
            pod_id=1,
            data_center_id=zone_id,
            hypervisor_type=hypervisor,
            cluster_type="CloudManaged",
            allocation_state="Enabled",
            managed_state="Managed",
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
        age_days: float = 30,
    ) -> int:
        sid = self._insert(
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
        self.ago("created", "image_store", sid, age_days * 86400)
        return sid

    # --- templates ------------------------------------------------------------------------------------

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
        public: int = 1,
        featured: int = 0,
        hypervisor: str = "KVM",
        state: str = "Active",
        account_id: int = 2,
    ) -> int:
        n = next(_ids)
        return self._insert(
            "vm_template",
            **({"id": id} if id is not None else {}),
            unique_name=f"{n}-{account_id}-{uuid.uuid4()}",
            name=name,
            uuid=str(uuid.uuid4()),
            public=public,
            featured=featured,
            type=type,
            hvm=1,
            bits=64,
            url=url or f"http://templates.example.org/{name}.qcow2",
            format=fmt,
            created="2024-01-01 00:00:00",
            account_id=account_id,
            checksum=checksum,
            display_text=name,
            guest_os_id=1,
            cross_zones=cross_zones,
            hypervisor_type=hypervisor,
            size=size,
            state=state,
            direct_download=direct_download,
        )

    def system_template(self, version: str = "4.22.0", hypervisor: str = "KVM", *, arch: str = "x86_64") -> int:
        """The SystemVM template as SystemVmTemplateRegistration registers it (and the settings it updates)."""
        name = f"systemvm-{hypervisor.lower()}-{version}" + (
            f"-{arch}" if "arch" in self.columns("vm_template") else ""
        )
        tid = self._insert(
            "vm_template",
            unique_name="routing-pending",
            name=name,
            uuid=str(uuid.uuid4()),
            public=0,
            featured=0,
            type="SYSTEM",
            hvm=1,
            bits=64,
            url=f"https://download.cloudstack.org/systemvm/{version[:4]}/systemvmtemplate-{version}-{arch}-kvm.qcow2.bz2",
            format="QCOW2",
            created="2024-01-01 00:00:00",
            account_id=1,
            checksum="{SHA-512}" + "9d" * 64,
            display_text=name,
            enable_password=0,
            guest_os_id=1,
            cross_zones=1,
            hypervisor_type=hypervisor,
            arch=arch,
            state="Active",
            deploy_as_is=0,
        )
        self.sql("UPDATE vm_template SET unique_name = %s WHERE id = %s", f"routing-{tid}", tid)
        self.setting(f"router.template.{hypervisor.lower()}", name, name)
        self.setting("minreq.sysvmtemplate.version", version, "4.10.0")
        return tid

    def builtin_ids(self, hypervisor: str) -> list[int]:
        """The active SYSTEM and BUILTIN templates of a hypervisor that setup/db/templates.sql left (template
        sync downloads them to every store of a zone with that hypervisor: handleSysTemplateDownload)."""
        with self.server.connect(self.database) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT id FROM vm_template WHERE removed IS NULL AND type IN ('SYSTEM', 'BUILTIN') "
                "AND hypervisor_type = %s AND direct_download = 0 ORDER BY id",
                (hypervisor,),
            )
            return [int(r[0]) for r in cur.fetchall()]

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
        error_str: str | None = "Install completed successfully at 1/1/24 12:00 AM",
        minutes_ago: float | None = 0.0,
        destroyed: int | None = 0,
        install_path: str | None = None,
        fmt: str = "qcow2",
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
            install_path=install_path
            if install_path is not None or store_id is None
            else f"template/tmpl/2/{template_id}/{uuid.uuid4()}.{fmt}",
            url=None,
            state=state,
            destroyed=destroyed,
            is_copy=0,
            update_count=3,
            ref_cnt=0,
        )
        if minutes_ago is not None:
            self.ago("last_updated", "template_store_ref", rid, minutes_ago * 60)
        return rid

    def direct_download(self, name: str = "debian-12-direct", *, checksum: str | None = None) -> int:
        """A KVM direct-download template: registered with direct_download = 1; its only row is the BYPASSED
        one createTemplateDirectDownloadEntry writes (no store, Ready, size 0, physical size 0)."""
        t = self.template(name, direct_download=1, checksum=checksum or "{SHA-256}" + "4e" * 32)
        self.ref(
            t,
            None,
            download_state="BYPASSED",
            state="Ready",
            pct=None,
            size=0,
            physical_size=0,
            error_str=None,
            install_path=None,
        )
        return t

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
            install_path="",
        )
        return t

    # --- system VMs -----------------------------------------------------------------------------------

    def network(self, zone_id: int, traffic_type: str) -> int:
        """The zone's system network of this traffic type (one per zone, as CloudStack sets them up)."""
        key = (zone_id, traffic_type)
        if key not in self._system_networks:
            guru = {
                "Control": "ControlNetworkGuru",
                "Management": "PodBasedNetworkGuru",
                "Public": "PublicNetworkGuru",
                "Storage": "StorageNetworkGuru",
            }.get(traffic_type, "PublicNetworkGuru")
            nid = self._insert(
                "networks",
                name=None,
                uuid=str(uuid.uuid4()),
                traffic_type=traffic_type,
                broadcast_domain_type="LinkLocal" if traffic_type == "Control" else "Native",
                network_offering_id=1,
                data_center_id=zone_id,
                guru_name=guru,
                state="Setup",
                related=0,
                domain_id=1,
                account_id=1,
                created="2024-01-01 00:00:00",
                guest_type=None,
            )
            self.sql("UPDATE networks SET related = id WHERE id = %s", nid)
            self._system_networks[key] = nid
        return self._system_networks[key]

    def ssvm(
        self,
        zone_id: int,
        name: str,
        *,
        vm_state: str = "Running",
        agent_status: str | None = "Up",
        connected_days: float = 3.0,
        ping_age_s: int | None = None,
        ips: dict[str, str] | None = None,
        template_id: int | None = None,
        agent_version: str = "4.22.0.0",
        resource_state: str = "Enabled",
        mgmt_server: bool = True,
    ) -> int:
        """An SSVM: its vm_instance row, secondary_storage_vm row, nics and agent host row. The agent
        connected ``connected_days`` ago: last_ping holds that connect time (ms >> 10), not a recent ping."""
        vm_id = self._insert(
            "vm_instance",
            name=name,
            uuid=str(uuid.uuid4()),
            instance_name=name,
            state=vm_state,
            vm_template_id=template_id or 3,
            guest_os_id=15,
            private_ip_address=(ips or {}).get("Management", "10.1.0.20"),
            host_id=1 if vm_state == "Running" else None,
            last_host_id=1,
            data_center_id=zone_id,
            pod_id=1,
            vnc_password="Hidden",
            ha_enabled=0,
            limit_cpu_use=0,
            created="2024-01-01 00:00:00",
            type="SecondaryStorageVm",
            vm_type="SecondaryStorageVm",
            account_id=1,
            domain_id=1,
            service_offering_id=1,
        )
        self._insert(
            "secondary_storage_vm",
            id=vm_id,
            public_ip_address=(ips or {}).get("Public"),
            guid=f"{name}-NfsSecondaryStorageResource",
            nfs_share="nfs://10.0.0.5/export/secondary",
            role="templateProcessor",
        )
        if agent_status is not None:
            hid = self._insert(
                "host",
                name=name,
                uuid=str(uuid.uuid4()),
                status=agent_status,
                type="SecondaryStorageVM",
                private_ip_address=(ips or {}).get("Management", "10.1.0.20"),
                public_ip_address=(ips or {}).get("Public"),
                data_center_id=zone_id,
                pod_id=1,
                hypervisor_type="None",
                resource="org.apache.cloudstack.storage.resource.NfsSecondaryStorageResource",
                version=agent_version,
                guid=f"{name}-NfsSecondaryStorageResource",
                dom0_memory=0,
                last_ping=0,
                mgmt_server_id=MSID if mgmt_server and agent_status in ("Up", "Connecting") else None,
                last_mgmt_server_id=MSID,
                resource_state=resource_state,
                created="2024-01-01 00:00:00",
            )
            age = ping_age_s if ping_age_s is not None else int(connected_days * 86400)
            self.sql(
                "UPDATE host SET last_ping = (FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) >> 10) - %s, "
                "created = UTC_TIMESTAMP() - INTERVAL %s SECOND WHERE id = %s",
                age,
                age,
                hid,
            )
            if agent_status in ("Disconnected", "Alert", "Down"):
                self.sql("UPDATE host SET disconnected = UTC_TIMESTAMP() - INTERVAL 20 MINUTE WHERE id = %s", hid)
        for traffic, ip in (
            ips or {"Control": "169.254.3.4", "Management": "10.1.0.20", "Public": "192.0.2.20"}
        ).items():
            self._insert(
                "nics",
                uuid=str(uuid.uuid4()),
                instance_id=vm_id,
                ip4_address=ip,
                network_id=self.network(zone_id, traffic),
                state="Reserved",
                strategy="Start",
                default_nic=1 if traffic == "Public" else 0,
                created="2024-01-01 00:00:00",
                vm_type="SecondaryStorageVm",
                reserver_name="PodBasedNetworkGuru",
            )
        return vm_id

    def host_id(self, name: str) -> int:
        return int(self.value("SELECT id FROM host WHERE name = %s AND removed IS NULL", name))

    # --- direct download and heuristics ---------------------------------------------------------------

    def certificate(self, zone_id: int, alias: str, pem: str, host_ids: list[int]) -> int:
        """A direct-download certificate uploaded to a zone (uploadTemplateDirectDownloadCertificate) and the
        hosts it was installed on (direct_download_certificate_host_map)."""
        cid = self._insert(
            "direct_download_certificate",
            uuid=str(uuid.uuid4()),
            alias=alias,
            certificate=pem,
            hypervisor_type="KVM",
            zone_id=zone_id,
        )
        for h in host_ids:
            self._insert("direct_download_certificate_host_map", certificate_id=cid, host_id=h, revoked=0)
        return cid

    def kvm_host(self, zone_id: int, name: str, *, status: str = "Up", cluster_id: int | None = None) -> int:
        """A KVM hypervisor host (type Routing) as createHostVO writes it."""
        hid = self._insert(
            "host",
            name=name,
            uuid=str(uuid.uuid4()),
            status=status,
            type="Routing",
            private_ip_address="10.1.0.31",
            data_center_id=zone_id,
            pod_id=1,
            cluster_id=cluster_id,
            hypervisor_type="KVM",
            resource="com.cloud.hypervisor.kvm.resource.LibvirtComputingResource",
            version="4.22.0.0",
            guid=str(uuid.uuid4()) + "-LibvirtComputingResource",
            dom0_memory=0,
            last_ping=0,
            mgmt_server_id=MSID if status == "Up" else None,
            resource_state="Enabled",
            created="2024-01-01 00:00:00",
        )
        self.sql("UPDATE host SET last_ping = (FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) >> 10) - 86400 WHERE id = %s", hid)
        return hid

    def heuristic(self, zone_id: int, rule: str, *, type: str = "TEMPLATE", name: str = "templates-rule") -> int:
        """A storage-selector rule (createSecondaryStorageSelector, 4.19+): JavaScript choosing a store."""
        return self._insert(
            "heuristics",
            uuid=str(uuid.uuid4()),
            name=name,
            description=name,
            zone_id=zone_id,
            type=type,
            heuristic_rule=rule,
            created="2024-01-01 00:00:00",
        )

    # --- whole scenarios ------------------------------------------------------------------------------

    def healthy_zone(self, name: str = "zone-ok") -> dict[str, int]:
        """An enabled KVM zone as a fresh install leaves it after a few days: one store holding the default
        KVM system and builtin templates and a user template, a running SSVM connected for days."""
        z = self.zone(name)
        self.cluster(z, "KVM")
        s = self.store(z, f"{name}-nfs")
        for tid in self.builtin_ids("KVM"):
            self.ref(tid, s, minutes_ago=3 * 1440, fmt="qcow2")
        self.ssvm(z, f"s-{z}0-VM")
        t = self.template(f"{name}-debian", checksum="{SHA-256}" + "ab" * 32)
        self.ref(t, s)
        return {"zone": z, "store": s, "template": t}
