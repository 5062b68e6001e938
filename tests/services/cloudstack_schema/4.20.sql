-- CloudStack 4.20: the `cloud` tables csdiag reads, as CloudStack 4.20.0.0 builds them.
-- Source: apache/cloudstack at commit 2fe3fcef7c77cf9a1b629c9df3afc0cdb88ad4f6: setup/db/create-schema.sql, templates.sql,
-- create-schema-premium.sql, engine/schema/src/main/resources/META-INF/db/{procedures,schema-*to*.sql,views},
-- the schema changes of engine/schema/src/main/java/com/cloud/upgrade/dao/Upgrade*.java, in the order of
-- DatabaseUpgradeChecker's DatabaseVersionHierarchy from 4.0.0. Generated from SHOW CREATE TABLE on
-- MariaDB by tests/services/cloudstack_schema/rebuild.py; foreign keys are kept as comments.

CREATE TABLE `version` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `version` char(40) NOT NULL COMMENT 'version',
  `updated` datetime NOT NULL COMMENT 'Date this version table was updated',
  `step` char(32) NOT NULL COMMENT 'Step in the upgrade to this version',
  PRIMARY KEY (`id`),
  UNIQUE KEY `version` (`version`),
  KEY `i_version__version` (`version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `configuration` (
  `category` varchar(255) NOT NULL DEFAULT 'Advanced',
  `instance` varchar(255) NOT NULL,
  `component` varchar(255) NOT NULL DEFAULT 'management-server',
  `name` varchar(255) NOT NULL,
  `value` varchar(8191) DEFAULT NULL,
  `description` varchar(1024) DEFAULT NULL,
  `default_value` varchar(8191) DEFAULT NULL,
  `updated` datetime DEFAULT NULL COMMENT 'Time this was updated by the server. null means this row is obsolete.',
  `scope` varchar(255) DEFAULT NULL COMMENT 'Can this parameter be scoped',
  `is_dynamic` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'Can the parameter be change dynamically without restarting the server',
  `group_id` bigint(20) unsigned DEFAULT 1 COMMENT 'group id this configuration belongs to',
  `subgroup_id` bigint(20) unsigned DEFAULT 1 COMMENT 'subgroup id this configuration belongs to',
  `parent` varchar(255) DEFAULT NULL COMMENT 'name of the parent configuration if this depends on it',
  `display_text` varchar(255) DEFAULT NULL COMMENT 'Short text about configuration to display to the users',
  `kind` varchar(255) DEFAULT NULL COMMENT 'kind of the value such as order, csv, etc',
  `options` varchar(255) DEFAULT NULL COMMENT 'possible options for the value',
  PRIMARY KEY (`name`),
  KEY `i_configuration__instance` (`instance`),
  KEY `i_configuration__name` (`name`),
  KEY `i_configuration__category` (`category`),
  KEY `i_configuration__component` (`component`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_data_center__domain_id` FOREIGN KEY (`domain_id`) REFERENCES `domain` (`id`)
CREATE TABLE `data_center` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) DEFAULT NULL,
  `uuid` varchar(40) DEFAULT NULL,
  `description` varchar(255) DEFAULT NULL,
  `dns1` varchar(255) NOT NULL,
  `dns2` varchar(255) DEFAULT NULL,
  `internal_dns1` varchar(255) NOT NULL,
  `internal_dns2` varchar(255) DEFAULT NULL,
  `gateway` varchar(15) DEFAULT NULL,
  `netmask` varchar(15) DEFAULT NULL,
  `router_mac_address` varchar(17) NOT NULL DEFAULT '02:00:00:00:00:01' COMMENT 'mac address for the router within the domain',
  `mac_address` bigint(20) unsigned NOT NULL DEFAULT 1 COMMENT 'Next available mac address for the ethernet card interacting with public internet',
  `guest_network_cidr` varchar(18) DEFAULT NULL,
  `domain` varchar(100) DEFAULT NULL COMMENT 'Network domain name of the Vms of the zone',
  `domain_id` bigint(20) unsigned DEFAULT NULL COMMENT 'domain id for the parent domain to this zone (null signifies public zone)',
  `networktype` varchar(255) NOT NULL DEFAULT 'Basic' COMMENT 'Network type of the zone',
  `dns_provider` char(64) DEFAULT 'VirtualRouter',
  `gateway_provider` char(64) DEFAULT 'VirtualRouter',
  `firewall_provider` char(64) DEFAULT 'VirtualRouter',
  `dhcp_provider` char(64) DEFAULT 'VirtualRouter',
  `lb_provider` char(64) DEFAULT 'VirtualRouter',
  `vpn_provider` char(64) DEFAULT 'VirtualRouter',
  `userdata_provider` char(64) DEFAULT 'VirtualRouter',
  `allocation_state` varchar(32) NOT NULL DEFAULT 'Enabled' COMMENT 'Is this data center enabled for allocation for new resources',
  `zone_token` varchar(255) DEFAULT NULL,
  `is_security_group_enabled` tinyint(4) NOT NULL DEFAULT 0 COMMENT '1: enabled, 0: not',
  `is_local_storage_enabled` tinyint(4) NOT NULL DEFAULT 0 COMMENT 'Is local storage offering enabled for this data center; 1: enabled, 0: not',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `owner` varchar(255) DEFAULT NULL,
  `created` datetime DEFAULT NULL COMMENT 'date created',
  `lastUpdated` datetime DEFAULT NULL COMMENT 'last updated',
  `engine_state` varchar(32) NOT NULL DEFAULT 'Disabled' COMMENT 'the engine state of the zone',
  `ip6_dns1` varchar(255) DEFAULT NULL,
  `ip6_dns2` varchar(255) DEFAULT NULL,
  `sort_key` int(32) NOT NULL DEFAULT 0,
  `type` varchar(32) DEFAULT 'Core' COMMENT 'the type of the zone',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_data_center__uuid` (`uuid`),
  KEY `i_data_center__domain_id` (`domain_id`),
  KEY `i_data_center__allocation_state` (`allocation_state`),
  KEY `i_data_center__zone_token` (`zone_token`),
  KEY `i_data_center__removed` (`removed`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `mshost` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `msid` bigint(20) unsigned NOT NULL COMMENT 'management server id derived from MAC address',
  `runid` bigint(20) NOT NULL DEFAULT 0 COMMENT 'run id, combined with msid to form a cluster session',
  `name` varchar(255) DEFAULT NULL,
  `uuid` varchar(40) DEFAULT NULL,
  `state` varchar(25) DEFAULT NULL,
  `version` varchar(255) DEFAULT NULL,
  `service_ip` char(40) NOT NULL,
  `service_port` int(11) NOT NULL,
  `last_update` datetime DEFAULT NULL COMMENT 'Last record update time',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `alert_count` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `msid` (`msid`),
  UNIQUE KEY `mshost_UUID` (`uuid`),
  KEY `i_mshost__removed` (`removed`),
  KEY `i_mshost__last_update` (`last_update`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_cluster__data_center_id` FOREIGN KEY (`data_center_id`) REFERENCES `data_center` (`id`) ON DELETE CASCADE
-- CONSTRAINT `fk_cluster__pod_id` FOREIGN KEY (`pod_id`) REFERENCES `host_pod_ref` (`id`)
CREATE TABLE `cluster` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `name` varchar(255) DEFAULT NULL COMMENT 'name for the cluster',
  `uuid` varchar(40) DEFAULT NULL COMMENT 'uuid is different with following guid, while the later one is generated by hypervisor resource',
  `guid` varchar(255) DEFAULT NULL COMMENT 'guid for the cluster',
  `pod_id` bigint(20) unsigned NOT NULL COMMENT 'pod id',
  `data_center_id` bigint(20) unsigned NOT NULL COMMENT 'data center id',
  `hypervisor_type` varchar(32) DEFAULT NULL,
  `cluster_type` varchar(64) DEFAULT 'CloudManaged',
  `allocation_state` varchar(32) NOT NULL DEFAULT 'Enabled' COMMENT 'Is this cluster enabled for allocation for new resources',
  `managed_state` varchar(32) NOT NULL DEFAULT 'Managed' COMMENT 'Is this cluster managed by cloudstack',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `owner` varchar(255) DEFAULT NULL,
  `created` datetime DEFAULT NULL COMMENT 'date created',
  `lastUpdated` datetime DEFAULT NULL COMMENT 'last updated',
  `engine_state` varchar(32) NOT NULL DEFAULT 'Disabled' COMMENT 'the engine state of the zone',
  `arch` varchar(8) DEFAULT 'x86_64' COMMENT 'the CPU architecture of the hosts in the cluster',
  PRIMARY KEY (`id`),
  UNIQUE KEY `guid` (`guid`),
  UNIQUE KEY `i_cluster__pod_id__name` (`pod_id`,`name`),
  UNIQUE KEY `uc_cluster__uuid` (`uuid`),
  KEY `fk_cluster__data_center_id` (`data_center_id`),
  KEY `i_cluster__allocation_state` (`allocation_state`),
  KEY `i_cluster__removed` (`removed`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `image_store` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `name` varchar(255) NOT NULL COMMENT 'name of data store',
  `image_provider_name` varchar(255) NOT NULL COMMENT 'id of image_store_provider',
  `protocol` varchar(255) NOT NULL COMMENT 'protocol of data store',
  `url` varchar(2048) DEFAULT NULL,
  `data_center_id` bigint(20) unsigned DEFAULT NULL COMMENT 'datacenter id of data store',
  `scope` varchar(255) DEFAULT NULL COMMENT 'scope of data store',
  `role` varchar(255) DEFAULT NULL COMMENT 'role of data store',
  `uuid` varchar(255) DEFAULT NULL COMMENT 'uuid of data store',
  `parent` varchar(255) DEFAULT NULL COMMENT 'parent path for the storage server',
  `created` datetime DEFAULT NULL COMMENT 'date the image store first signed on',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `total_size` bigint(20) unsigned DEFAULT NULL COMMENT 'storage total size statistics',
  `used_bytes` bigint(20) unsigned DEFAULT NULL COMMENT 'storage available bytes statistics',
  `readonly` tinyint(1) DEFAULT 0 COMMENT 'defines status of image store',
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_image_store_details__store_id` FOREIGN KEY (`store_id`) REFERENCES `image_store` (`id`) ON DELETE CASCADE
CREATE TABLE `image_store_details` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `store_id` bigint(20) unsigned NOT NULL COMMENT 'store the detail is related to',
  `name` varchar(255) NOT NULL COMMENT 'name of the detail',
  `value` varchar(255) NOT NULL,
  `display` tinyint(1) NOT NULL DEFAULT 1 COMMENT 'True if the detail can be displayed to the end user',
  PRIMARY KEY (`id`),
  KEY `fk_image_store_details__store_id` (`store_id`),
  KEY `i_image_store__name__value` (`name`(128),`value`(128))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_vm_template__user_data_id` FOREIGN KEY (`user_data_id`) REFERENCES `user_data` (`id`)
CREATE TABLE `vm_template` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `unique_name` varchar(255) NOT NULL,
  `name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  `uuid` varchar(40) DEFAULT NULL,
  `public` int(1) unsigned NOT NULL,
  `featured` int(1) unsigned NOT NULL,
  `type` varchar(32) DEFAULT NULL,
  `hvm` int(1) unsigned NOT NULL COMMENT 'requires HVM',
  `bits` int(6) unsigned NOT NULL COMMENT '32 bit or 64 bit',
  `url` varchar(1024) DEFAULT NULL COMMENT 'the url where the template exists externally',
  `format` varchar(32) NOT NULL COMMENT 'format for the template',
  `created` datetime NOT NULL COMMENT 'Date created',
  `removed` datetime DEFAULT NULL COMMENT 'Date removed if not null',
  `account_id` bigint(20) unsigned NOT NULL COMMENT 'id of the account that created this template',
  `checksum` varchar(255) DEFAULT NULL COMMENT 'checksum for the template root disk',
  `display_text` varchar(4096) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL COMMENT 'Description text set by the admin for display purpose only',
  `enable_password` int(1) unsigned NOT NULL DEFAULT 1 COMMENT 'true if this template supports password reset',
  `enable_sshkey` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'true if this template supports sshkey reset',
  `guest_os_id` bigint(20) unsigned NOT NULL COMMENT 'the OS of the template',
  `bootable` int(1) unsigned NOT NULL DEFAULT 1 COMMENT 'true if this template represents a bootable ISO',
  `prepopulate` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'prepopulate this template to primary storage',
  `cross_zones` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'Make this template available in all zones',
  `extractable` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'Is this template extractable',
  `hypervisor_type` varchar(32) DEFAULT NULL COMMENT 'hypervisor that the template belongs to',
  `source_template_id` bigint(20) unsigned DEFAULT NULL COMMENT 'Id of the original template, if this template is created from snapshot',
  `template_tag` varchar(255) DEFAULT NULL COMMENT 'template tag',
  `sort_key` int(32) NOT NULL DEFAULT 0 COMMENT 'sort key used for customising sort method',
  `size` bigint(20) unsigned DEFAULT NULL,
  `state` varchar(255) DEFAULT NULL,
  `update_count` bigint(20) unsigned DEFAULT NULL,
  `updated` datetime DEFAULT NULL,
  `dynamically_scalable` tinyint(1) unsigned NOT NULL DEFAULT 0 COMMENT 'true if template contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory',
  `parent_template_id` bigint(20) unsigned DEFAULT NULL COMMENT 'If datadisk template, then id of the root template this template belongs to',
  `direct_download` tinyint(1) DEFAULT 0 COMMENT 'Indicates if Secondary Storage is bypassed and template is downloaded to Primary Storage',
  `deploy_as_is` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'True if the template should be deployed with disks and networks as defined by OVF',
  `user_data_id` bigint(20) unsigned DEFAULT NULL COMMENT 'id of the user data',
  `user_data_link_policy` varchar(255) DEFAULT NULL COMMENT 'user data link policy with template',
  `arch` varchar(8) DEFAULT 'x86_64' COMMENT 'the CPU architecture of the template/ISO',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_vm_template__uuid` (`uuid`),
  KEY `i_vm_template__removed` (`removed`),
  KEY `i_vm_template__public` (`public`),
  KEY `fk_vm_template__user_data_id` (`user_data_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_template_store_ref__template_id` FOREIGN KEY (`template_id`) REFERENCES `vm_template` (`id`)
CREATE TABLE `template_store_ref` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `store_id` bigint(20) unsigned DEFAULT NULL,
  `template_id` bigint(20) unsigned NOT NULL,
  `created` datetime NOT NULL,
  `last_updated` datetime DEFAULT NULL,
  `job_id` varchar(255) DEFAULT NULL,
  `download_pct` int(10) unsigned DEFAULT NULL,
  `size` bigint(20) unsigned DEFAULT NULL,
  `store_role` varchar(255) DEFAULT NULL,
  `physical_size` bigint(20) unsigned DEFAULT 0,
  `download_state` varchar(255) DEFAULT NULL,
  `error_str` varchar(255) DEFAULT NULL,
  `local_path` varchar(255) DEFAULT NULL,
  `install_path` varchar(255) DEFAULT NULL,
  `url` varchar(2048) DEFAULT NULL,
  `state` varchar(255) NOT NULL,
  `destroyed` tinyint(1) DEFAULT NULL COMMENT 'indicates whether the template_store entry was destroyed by the user or not',
  `is_copy` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'indicates whether this was copied ',
  `update_count` bigint(20) unsigned DEFAULT NULL,
  `ref_cnt` bigint(20) unsigned DEFAULT 0,
  `updated` datetime DEFAULT NULL,
  `download_url_created` datetime DEFAULT NULL,
  `download_url` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `i_template_store_ref__store_id` (`store_id`),
  KEY `i_template_store_ref__template_id` (`template_id`),
  KEY `i_template_store_ref__install_path` (`install_path`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_host__cluster_id` FOREIGN KEY (`cluster_id`) REFERENCES `cluster` (`id`)
-- CONSTRAINT `fk_host__pod_id` FOREIGN KEY (`pod_id`) REFERENCES `host_pod_ref` (`id`) ON DELETE CASCADE
CREATE TABLE `host` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `uuid` varchar(40) DEFAULT NULL COMMENT 'this uuid is different with guid below, the later one is used by hypervisor resource',
  `status` varchar(32) NOT NULL,
  `type` varchar(32) NOT NULL,
  `private_ip_address` char(40) NOT NULL,
  `private_netmask` varchar(15) DEFAULT NULL,
  `private_mac_address` varchar(17) DEFAULT NULL,
  `storage_ip_address` char(40) DEFAULT NULL,
  `storage_netmask` varchar(15) DEFAULT NULL,
  `storage_mac_address` varchar(17) DEFAULT NULL,
  `storage_ip_address_2` char(40) DEFAULT NULL,
  `storage_mac_address_2` varchar(17) DEFAULT NULL,
  `storage_netmask_2` varchar(15) DEFAULT NULL,
  `cluster_id` bigint(20) unsigned DEFAULT NULL COMMENT 'foreign key to cluster',
  `public_ip_address` char(40) DEFAULT NULL,
  `public_netmask` varchar(15) DEFAULT NULL,
  `public_mac_address` varchar(17) DEFAULT NULL,
  `proxy_port` int(10) unsigned DEFAULT NULL,
  `data_center_id` bigint(20) unsigned NOT NULL,
  `pod_id` bigint(20) unsigned DEFAULT NULL,
  `cpu_sockets` int(10) unsigned DEFAULT NULL COMMENT 'the number of CPU sockets on the host',
  `cpus` int(10) unsigned DEFAULT NULL,
  `speed` int(10) unsigned DEFAULT NULL,
  `url` varchar(255) DEFAULT NULL COMMENT 'iqn for the servers',
  `fs_type` varchar(32) DEFAULT NULL,
  `hypervisor_type` varchar(32) DEFAULT NULL COMMENT 'hypervisor type, can be NONE for storage',
  `hypervisor_version` varchar(32) DEFAULT NULL COMMENT 'hypervisor version',
  `ram` bigint(20) unsigned DEFAULT NULL,
  `resource` varchar(255) DEFAULT NULL COMMENT 'If it is a local resource, this is the class name',
  `version` varchar(40) NOT NULL,
  `parent` varchar(255) DEFAULT NULL COMMENT 'parent path for the storage server',
  `total_size` bigint(20) unsigned DEFAULT NULL COMMENT 'TotalSize',
  `capabilities` varchar(255) DEFAULT NULL COMMENT 'host capabilities in comma separated list',
  `guid` varchar(255) DEFAULT NULL,
  `available` int(1) unsigned NOT NULL DEFAULT 1 COMMENT 'Is this host ready for more resources?',
  `setup` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'Is this host already setup?',
  `dom0_memory` bigint(20) unsigned NOT NULL COMMENT 'memory used by dom0 for computing and routing servers',
  `last_ping` int(10) unsigned NOT NULL COMMENT 'time in seconds from the start of machine of the last ping',
  `mgmt_server_id` bigint(20) unsigned DEFAULT NULL COMMENT 'ManagementServer this host is connected to.',
  `disconnected` datetime DEFAULT NULL COMMENT 'Time this was disconnected',
  `created` datetime DEFAULT NULL COMMENT 'date the host first signed on',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `update_count` bigint(20) unsigned NOT NULL DEFAULT 0 COMMENT 'atomic increase count making status update operation atomical',
  `resource_state` varchar(32) NOT NULL DEFAULT 'Enabled' COMMENT 'Is this host enabled for allocation for new resources',
  `owner` varchar(255) DEFAULT NULL,
  `lastUpdated` datetime DEFAULT NULL COMMENT 'last updated',
  `engine_state` varchar(32) NOT NULL DEFAULT 'Disabled' COMMENT 'the engine state of the zone',
  `arch` varchar(8) DEFAULT 'x86_64' COMMENT 'the CPU architecture of the host',
  PRIMARY KEY (`id`),
  UNIQUE KEY `guid` (`guid`),
  UNIQUE KEY `uc_host__uuid` (`uuid`),
  KEY `i_host__removed` (`removed`),
  KEY `i_host__last_ping` (`last_ping`),
  KEY `i_host__status` (`status`),
  KEY `i_host__data_center_id` (`data_center_id`),
  KEY `i_host__pod_id` (`pod_id`),
  KEY `fk_host__cluster_id` (`cluster_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_vm_instance__account_id` FOREIGN KEY (`account_id`) REFERENCES `account` (`id`)
-- CONSTRAINT `fk_vm_instance__host_id` FOREIGN KEY (`host_id`) REFERENCES `host` (`id`)
-- CONSTRAINT `fk_vm_instance__last_host_id` FOREIGN KEY (`last_host_id`) REFERENCES `host` (`id`)
-- CONSTRAINT `fk_vm_instance__power_host` FOREIGN KEY (`power_host`) REFERENCES `host` (`id`)
-- CONSTRAINT `fk_vm_instance__service_offering_id` FOREIGN KEY (`service_offering_id`) REFERENCES `service_offering` (`id`)
-- CONSTRAINT `fk_vm_instance__template_id` FOREIGN KEY (`vm_template_id`) REFERENCES `vm_template` (`id`)
CREATE TABLE `vm_instance` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(255) NOT NULL,
  `uuid` varchar(40) DEFAULT NULL,
  `instance_name` varchar(255) NOT NULL COMMENT 'name of the vm instance running on the hosts',
  `state` varchar(32) NOT NULL,
  `vm_template_id` bigint(20) unsigned DEFAULT NULL,
  `guest_os_id` bigint(20) unsigned NOT NULL,
  `private_mac_address` varchar(17) DEFAULT NULL,
  `private_ip_address` char(40) DEFAULT NULL,
  `pod_id` bigint(20) unsigned DEFAULT NULL,
  `data_center_id` bigint(20) unsigned NOT NULL COMMENT 'Data Center the instance belongs to',
  `host_id` bigint(20) unsigned DEFAULT NULL,
  `last_host_id` bigint(20) unsigned DEFAULT NULL COMMENT 'tentative host for first run or last host that it has been running on',
  `proxy_id` bigint(20) unsigned DEFAULT NULL COMMENT 'console proxy allocated in previous session',
  `proxy_assign_time` datetime DEFAULT NULL COMMENT 'time when console proxy was assigned',
  `vnc_password` varchar(255) NOT NULL COMMENT 'vnc password',
  `ha_enabled` tinyint(1) NOT NULL DEFAULT 0 COMMENT 'Should HA be enabled for this VM',
  `limit_cpu_use` tinyint(1) unsigned NOT NULL DEFAULT 0 COMMENT 'Limit the cpu usage to service offering',
  `update_count` bigint(20) unsigned NOT NULL DEFAULT 0 COMMENT 'date state was updated',
  `update_time` datetime DEFAULT NULL COMMENT 'date the destroy was requested',
  `created` datetime NOT NULL COMMENT 'date created',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `type` varchar(32) NOT NULL COMMENT 'type of vm it is',
  `vm_type` varchar(32) NOT NULL COMMENT 'vm type',
  `account_id` bigint(20) unsigned NOT NULL COMMENT 'user id of owner',
  `domain_id` bigint(20) unsigned NOT NULL,
  `service_offering_id` bigint(20) unsigned NOT NULL COMMENT 'service offering id',
  `reservation_id` char(40) DEFAULT NULL COMMENT 'reservation id',
  `hypervisor_type` char(32) DEFAULT NULL COMMENT 'hypervisor type',
  `owner` varchar(255) DEFAULT NULL,
  `host_name` varchar(255) DEFAULT NULL,
  `display_name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL,
  `desired_state` varchar(32) DEFAULT NULL,
  `dynamically_scalable` tinyint(1) unsigned NOT NULL DEFAULT 0 COMMENT 'true if VM contains XS/VMWare tools inorder to support dynamic scaling of VM cpu/memory',
  `display_vm` tinyint(1) NOT NULL DEFAULT 1 COMMENT 'Should vm instance be displayed to the end user',
  `power_state` varchar(74) DEFAULT 'PowerUnknown',
  `power_state_update_time` datetime DEFAULT NULL,
  `power_state_update_count` int(11) DEFAULT 0,
  `power_host` bigint(20) unsigned DEFAULT NULL,
  `user_id` bigint(20) unsigned NOT NULL DEFAULT 1 COMMENT 'user id of VM deployer',
  `backup_offering_id` bigint(20) unsigned DEFAULT NULL COMMENT 'ID of backup offering',
  `backup_external_id` varchar(255) DEFAULT NULL COMMENT 'ID of external backup job or container if any',
  `backup_volumes` text DEFAULT NULL COMMENT 'details of backedup volumes',
  `delete_protection` tinyint(1) DEFAULT 0 COMMENT 'delete protection for vm',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_vm_instance_uuid` (`uuid`),
  KEY `i_vm_instance__removed` (`removed`),
  KEY `i_vm_instance__type` (`type`),
  KEY `i_vm_instance__pod_id` (`pod_id`),
  KEY `i_vm_instance__update_time` (`update_time`),
  KEY `i_vm_instance__update_count` (`update_count`),
  KEY `i_vm_instance__state` (`state`),
  KEY `i_vm_instance__data_center_id` (`data_center_id`),
  KEY `fk_vm_instance__host_id` (`host_id`),
  KEY `fk_vm_instance__last_host_id` (`last_host_id`),
  KEY `i_vm_instance__template_id` (`vm_template_id`),
  KEY `fk_vm_instance__account_id` (`account_id`),
  KEY `fk_vm_instance__service_offering_id` (`service_offering_id`),
  KEY `fk_vm_instance__power_host` (`power_host`),
  KEY `i_vm_instance__instance_name` (`instance_name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_secondary_storage_vm__id` FOREIGN KEY (`id`) REFERENCES `vm_instance` (`id`) ON DELETE CASCADE
CREATE TABLE `secondary_storage_vm` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `public_mac_address` varchar(17) DEFAULT NULL COMMENT 'mac address of the public facing network card',
  `public_ip_address` char(40) DEFAULT NULL COMMENT 'public ip address for the sec storage vm',
  `public_netmask` varchar(15) DEFAULT NULL COMMENT 'public netmask used for the sec storage vm',
  `guid` varchar(255) DEFAULT NULL COMMENT 'copied from guid of secondary storage host',
  `nfs_share` varchar(255) DEFAULT NULL COMMENT 'server and path exported by the nfs server ',
  `last_update` datetime DEFAULT NULL COMMENT 'Last session update time',
  `role` varchar(64) NOT NULL DEFAULT 'templateProcessor' COMMENT 'work role of secondary storage host(templateProcessor | commandExecutor)',
  PRIMARY KEY (`id`),
  UNIQUE KEY `public_mac_address` (`public_mac_address`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_networks__account_id` FOREIGN KEY (`account_id`) REFERENCES `account` (`id`)
-- CONSTRAINT `fk_networks__data_center_id` FOREIGN KEY (`data_center_id`) REFERENCES `data_center` (`id`) ON DELETE CASCADE
-- CONSTRAINT `fk_networks__domain_id` FOREIGN KEY (`domain_id`) REFERENCES `domain` (`id`)
-- CONSTRAINT `fk_networks__network_offering_id` FOREIGN KEY (`network_offering_id`) REFERENCES `network_offerings` (`id`)
-- CONSTRAINT `fk_networks__related` FOREIGN KEY (`related`) REFERENCES `networks` (`id`) ON DELETE CASCADE
-- CONSTRAINT `fk_networks__vpc_id` FOREIGN KEY (`vpc_id`) REFERENCES `vpc` (`id`)
CREATE TABLE `networks` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `name` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL COMMENT 'name for this network',
  `uuid` varchar(40) DEFAULT NULL,
  `display_text` varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL COMMENT 'display text for this network',
  `traffic_type` varchar(32) NOT NULL COMMENT 'type of traffic going through this network',
  `broadcast_domain_type` varchar(32) NOT NULL COMMENT 'type of broadcast domain used',
  `broadcast_uri` varchar(255) DEFAULT NULL COMMENT 'broadcast domain specifier',
  `gateway` varchar(15) DEFAULT NULL COMMENT 'gateway for this network configuration',
  `cidr` varchar(18) DEFAULT NULL COMMENT 'CloudStack managed vms get IP address from cidr.In general this cidr also serves as the network CIDR. But in case IP reservation feature is being used by a Guest network, networkcidr is the Effective network CIDR for that network',
  `mode` varchar(32) DEFAULT NULL COMMENT 'How to retrieve ip address in this network',
  `network_offering_id` bigint(20) unsigned NOT NULL COMMENT 'network offering id that this configuration is created from',
  `physical_network_id` bigint(20) unsigned DEFAULT NULL COMMENT 'physical network id that this configuration is based on',
  `data_center_id` bigint(20) unsigned NOT NULL COMMENT 'data center id that this configuration is used in',
  `guru_name` varchar(255) NOT NULL COMMENT 'who is responsible for this type of network configuration',
  `state` varchar(32) NOT NULL COMMENT 'what state is this configuration in',
  `related` bigint(20) unsigned NOT NULL COMMENT 'related to what other network configuration',
  `domain_id` bigint(20) unsigned NOT NULL COMMENT 'foreign key to domain id',
  `account_id` bigint(20) unsigned NOT NULL COMMENT 'owner of this network',
  `dns1` varchar(255) DEFAULT NULL COMMENT 'comma separated DNS list',
  `dns2` varchar(255) DEFAULT NULL COMMENT 'comma separated DNS list',
  `ip6dns1` varchar(255) DEFAULT NULL COMMENT 'first IPv6 DNS for the network',
  `ip6dns2` varchar(255) DEFAULT NULL COMMENT 'second IPv6 DNS for the network',
  `guru_data` varchar(1024) DEFAULT NULL COMMENT 'data stored by the network guru that setup this network',
  `set_fields` bigint(20) unsigned NOT NULL DEFAULT 0 COMMENT 'which fields are set already',
  `acl_type` varchar(15) DEFAULT NULL COMMENT 'ACL access type. Null for system networks, can be Account/Domain for Guest networks',
  `network_domain` varchar(255) DEFAULT NULL COMMENT 'domain',
  `reservation_id` char(40) DEFAULT NULL COMMENT 'reservation id',
  `guest_type` char(32) DEFAULT NULL COMMENT 'type of guest network that can be shared or isolated',
  `restart_required` int(1) unsigned NOT NULL DEFAULT 0 COMMENT '1 if restart is required for the network',
  `created` datetime NOT NULL COMMENT 'date created',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `specify_ip_ranges` int(1) unsigned NOT NULL DEFAULT 0 COMMENT 'true if the network provides an ability to define ip ranges',
  `vpc_id` bigint(20) unsigned DEFAULT NULL COMMENT 'vpc this network belongs to',
  `ip6_gateway` varchar(50) DEFAULT NULL COMMENT 'IPv6 gateway for this network',
  `ip6_cidr` varchar(50) DEFAULT NULL COMMENT 'IPv6 cidr for this network',
  `network_cidr` varchar(18) DEFAULT NULL COMMENT 'The network cidr for the isolated guest network which uses IP Reservation facility.For networks not using IP reservation, network_cidr is always null.',
  `display_network` tinyint(1) NOT NULL DEFAULT 1 COMMENT 'Should network be displayed to the end user',
  `network_acl_id` bigint(20) unsigned DEFAULT NULL COMMENT 'network acl id',
  `streched_l2` tinyint(1) DEFAULT 0,
  `redundant` tinyint(1) DEFAULT 0,
  `external_id` varchar(255) DEFAULT NULL,
  `public_mtu` bigint(20) unsigned DEFAULT NULL COMMENT 'MTU for VR public interface',
  `private_mtu` bigint(20) unsigned DEFAULT NULL COMMENT 'MTU for VR private interfaces',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_networks__uuid` (`uuid`),
  KEY `fk_networks__network_offering_id` (`network_offering_id`),
  KEY `fk_networks__data_center_id` (`data_center_id`),
  KEY `fk_networks__related` (`related`),
  KEY `fk_networks__account_id` (`account_id`),
  KEY `fk_networks__domain_id` (`domain_id`),
  KEY `fk_networks__vpc_id` (`vpc_id`),
  KEY `i_networks__removed` (`removed`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_nics__instance_id` FOREIGN KEY (`instance_id`) REFERENCES `vm_instance` (`id`) ON DELETE CASCADE
-- CONSTRAINT `fk_nics__networks_id` FOREIGN KEY (`network_id`) REFERENCES `networks` (`id`)
CREATE TABLE `nics` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT COMMENT 'id',
  `uuid` varchar(40) DEFAULT NULL,
  `instance_id` bigint(20) unsigned DEFAULT NULL COMMENT 'vm instance id',
  `mac_address` varchar(17) DEFAULT NULL COMMENT 'mac address',
  `ip4_address` char(40) DEFAULT NULL COMMENT 'ip4 address',
  `netmask` varchar(15) DEFAULT NULL COMMENT 'netmask for ip4 address',
  `gateway` varchar(15) DEFAULT NULL COMMENT 'gateway',
  `ip_type` varchar(32) DEFAULT NULL COMMENT 'type of ip',
  `broadcast_uri` varchar(255) DEFAULT NULL COMMENT 'broadcast uri',
  `network_id` bigint(20) unsigned NOT NULL COMMENT 'network configuration id',
  `mode` varchar(32) DEFAULT NULL COMMENT 'mode of getting ip address',
  `state` varchar(32) NOT NULL COMMENT 'state of the creation',
  `strategy` varchar(32) NOT NULL COMMENT 'reservation strategy',
  `reserver_name` varchar(255) DEFAULT NULL COMMENT 'Name of the component that reserved the ip address',
  `reservation_id` varchar(64) DEFAULT NULL COMMENT 'id for the reservation',
  `device_id` int(10) DEFAULT NULL COMMENT 'device id for the network when plugged into the virtual machine',
  `update_time` timestamp NULL DEFAULT current_timestamp(),
  `isolation_uri` varchar(255) DEFAULT NULL COMMENT 'id for isolation',
  `ip6_address` char(40) DEFAULT NULL COMMENT 'ip6 address',
  `default_nic` tinyint(4) NOT NULL COMMENT 'None',
  `vm_type` varchar(32) DEFAULT NULL COMMENT 'type of vm: System or User vm',
  `created` datetime NOT NULL COMMENT 'date created',
  `removed` datetime DEFAULT NULL COMMENT 'date removed if not null',
  `ip6_gateway` varchar(50) DEFAULT NULL COMMENT 'gateway for ip6 address',
  `ip6_cidr` varchar(50) DEFAULT NULL COMMENT 'cidr for ip6 address',
  `secondary_ip` smallint(6) DEFAULT 0 COMMENT 'secondary ips configured for the nic',
  `display_nic` tinyint(1) NOT NULL DEFAULT 1 COMMENT 'Should nic be displayed to the end user',
  `mtu` bigint(20) unsigned DEFAULT NULL COMMENT 'MTU for the VR interface',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_nics__uuid` (`uuid`),
  KEY `fk_nics__instance_id` (`instance_id`),
  KEY `fk_nics__networks_id` (`network_id`),
  KEY `i_nics__removed` (`removed`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

CREATE TABLE `alert` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(40) DEFAULT NULL,
  `type` int(1) unsigned NOT NULL,
  `cluster_id` bigint(20) unsigned DEFAULT NULL,
  `pod_id` bigint(20) unsigned DEFAULT NULL,
  `data_center_id` bigint(20) unsigned NOT NULL,
  `subject` varchar(999) DEFAULT NULL COMMENT 'according to SMTP spec, max subject length is 1000 including the CRLF character, so allow enough space to fit long pod/zone/host names',
  `sent_count` int(3) unsigned NOT NULL,
  `created` datetime DEFAULT NULL COMMENT 'when this alert type was created',
  `last_sent` datetime DEFAULT NULL COMMENT 'Last time the alert was sent',
  `resolved` datetime DEFAULT NULL COMMENT 'when the alert status was resolved (available memory no longer at critical level, etc.)',
  `archived` tinyint(1) unsigned NOT NULL DEFAULT 0,
  `name` varchar(255) DEFAULT NULL COMMENT 'name of the alert',
  `content` varchar(5000) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uc_alert__uuid` (`uuid`),
  KEY `i_alert__last_sent` (`last_sent`),
  KEY `i_alert__archived__created` (`archived`,`created`),
  KEY `i_alert__type__data_center_id__pod_id` (`type`,`data_center_id`,`pod_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_direct_download_certificate__zone_id` FOREIGN KEY (`zone_id`) REFERENCES `data_center` (`id`) ON DELETE CASCADE
CREATE TABLE `direct_download_certificate` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(40) NOT NULL,
  `alias` varchar(255) NOT NULL,
  `certificate` text NOT NULL,
  `hypervisor_type` varchar(45) NOT NULL,
  `zone_id` bigint(20) unsigned NOT NULL,
  PRIMARY KEY (`id`),
  KEY `i_direct_download_certificate_alias` (`alias`),
  KEY `fk_direct_download_certificate__zone_id` (`zone_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_direct_download_certificate_host_map__certificate_id` FOREIGN KEY (`certificate_id`) REFERENCES `direct_download_certificate` (`id`) ON DELETE CASCADE
-- CONSTRAINT `fk_direct_download_certificate_host_map__host_id` FOREIGN KEY (`host_id`) REFERENCES `host` (`id`) ON DELETE CASCADE
CREATE TABLE `direct_download_certificate_host_map` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `certificate_id` bigint(20) unsigned NOT NULL,
  `host_id` bigint(20) unsigned NOT NULL,
  `revoked` int(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `fk_direct_download_certificate_host_map__host_id` (`host_id`),
  KEY `fk_direct_download_certificate_host_map__certificate_id` (`certificate_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3 COLLATE=utf8mb3_general_ci;

-- CONSTRAINT `fk_heuristics__zone_id` FOREIGN KEY (`zone_id`) REFERENCES `data_center` (`id`)
CREATE TABLE `heuristics` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `uuid` varchar(255) NOT NULL,
  `name` text NOT NULL,
  `description` text DEFAULT NULL,
  `zone_id` bigint(20) unsigned NOT NULL COMMENT 'ID of the zone to apply the heuristic, foreign key to `data_center` table',
  `type` varchar(255) NOT NULL,
  `heuristic_rule` text NOT NULL COMMENT 'JS script that defines to which secondary storage the resource will be allocated.',
  `created` datetime NOT NULL,
  `removed` datetime DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uuid` (`uuid`),
  KEY `fk_heuristics__zone_id` (`zone_id`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;

-- The rows setup/db/templates.sql and the upgrade scripts leave in vm_template (the default
-- system and builtin templates; created/updated times are now(), as the scripts write them).

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (1, 'routing-1', 'SystemVM Template (XenServer)', '73a96fbe-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/systemvm/4.6/systemvm64template-4.6.0-xen.vhd.bz2', 'VHD', NOW(), 1, '8886f554a499ec5405b6f203d9d36460', 'SystemVM Template (XenServer)', 0, 0, 99, 1, 0, 1, 0, 'XenServer', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `removed`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (2, 'centos53-x86_64', 'CentOS 5.3(64-bit) no GUI (XenServer)', '73a9ac48-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/templates/builtin/f59f18fb-ae94-4f97-afd2-f84755767aca.vhd.bz2', 'VHD', NOW(), NOW(), 1, 'b63d854a9560c013142567bbae8d98cf', 'CentOS 5.3(64-bit) no GUI (XenServer)', 0, 0, 12, 1, 0, 1, 1, 'XenServer', 0, 'Inactive', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (3, 'routing-3', 'SystemVM Template (KVM)', '73a9837e-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/systemvm/4.6/systemvm64template-4.6.0-kvm.qcow2.bz2', 'QCOW2', NOW(), 1, 'c059b0d051e0cd6fbe9d5d4fc40c7e5d', 'SystemVM Template (KVM)', 0, 0, 15, 1, 0, 1, 0, 'KVM', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (4, 'centos55-x86_64', 'CentOS 5.5(64-bit) no GUI (KVM)', '73a9b43a-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/releases/2.2.0/eec2209b-9875-3c8d-92be-c001bd8a0faf.qcow2.bz2', 'QCOW2', NOW(), 1, 'ed0e788280ff2912ea40f7f91ca7a249', 'CentOS 5.5(64-bit) no GUI (KVM)', 0, 0, 112, 1, 0, 1, 1, 'KVM', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (5, 'centos56-x86_64-xen', 'CentOS 5.6(64-bit) no GUI (XenServer)', '73a9bbcf-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/templates/builtin/centos56-x86_64.vhd.bz2', 'VHD', NOW(), 1, '905cec879afd9c9d22ecc8036131a180', 'CentOS 5.6(64-bit) no GUI (XenServer)', 0, 0, 142, 1, 0, 1, 1, 'XenServer', 0, 'Active', 0, 1, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (6, 'centos64-x64', 'CentOS 6.4(64-bit) GUI (Hyperv)', '73a9c35e-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/releases/4.3/centos6_4_64bit.vhd.bz2', 'VHD', NOW(), 1, 'eef6b9940ea3ed01221d963d4a012d0a', 'CentOS 6.4 (64-bit) GUI (Hyperv)', 0, 0, 182, 1, 0, 1, 1, 'Hyperv', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (7, 'centos53-x64', 'CentOS 5.3(64-bit) no GUI (vSphere)', '73a9cb5c-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/releases/2.2.0/CentOS5.3-x86_64.ova', 'OVA', NOW(), 1, 'f6f881b7f2292948d8494db837fe0f47', 'CentOS 5.3(64-bit) no GUI (vSphere)', 0, 0, 12, 1, 0, 1, 1, 'VMware', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (8, 'routing-8', 'SystemVM Template (vSphere)', '73a999ce-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/systemvm/4.6/systemvm64template-4.6.0-vmware.ova', 'OVA', NOW(), 1, '4b415224fe00b258f66cad9fce9f73fc', 'SystemVM Template (vSphere)', 0, 0, 99, 1, 0, 1, 0, 'VMware', 0, 'Active', 0, 1, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (9, 'routing-9', 'SystemVM Template (HyperV)', '73a9a29d-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/templates/4.3/systemvm64template-2013-12-23-hyperv.vhd.bz2', 'VHD', NOW(), 1, '5df45ee6ebe1b703a8805f4e1f4d0818', 'SystemVM Template (HyperV)', 0, 0, 15, 1, 0, 1, 0, 'Hyperv', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `update_count`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (10, 'routing-10', 'SystemVM Template (LXC)', '745ea127-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/templates/acton/acton-systemvm-02062012.qcow2.bz2', 'QCOW2', NOW(), 1, '2755de1f9ef2ce4d6f2bee2efbb4da92', 'SystemVM Template (LXC)', 0, 0, 15, 1, 0, 1, 0, 'LXC', 0, 'Active', 0, 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (11, 'centos7-x86_64-lxc', 'CentOS 7(64-bit) no GUI (LXC)', '75d62536-ee81-11f1-b075-02fc00000001', 1, 1, 'BUILTIN', 0, 64, 'http://download.cloudstack.org/templates/builtin/centos-7-x86_64.tar.gz', 'TAR', NOW(), 1, 'c2c4fa2d0978121c7977db571f132d6e', 'CentOS 7(64-bit) no GUI (LXC)', 0, 0, 246, 1, 0, 1, 1, 'LXC', 0, 'Active', 0, 0, 0, 'x86_64');

INSERT INTO vm_template (`id`, `unique_name`, `name`, `uuid`, `public`, `featured`, `type`, `hvm`, `bits`, `url`, `format`, `created`, `account_id`, `checksum`, `display_text`, `enable_password`, `enable_sshkey`, `guest_os_id`, `bootable`, `prepopulate`, `cross_zones`, `extractable`, `hypervisor_type`, `sort_key`, `state`, `dynamically_scalable`, `direct_download`, `deploy_as_is`, `arch`) VALUES (12, 'routing-12', 'SystemVM Template (Ovm3)', '76497b47-ee81-11f1-b075-02fc00000001', 0, 0, 'SYSTEM', 0, 64, 'http://download.cloudstack.org/systemvm/4.6/systemvm64template-4.6.0-ovm.raw.bz2', 'RAW', NOW(), 1, 'c8577d27b2daafb2d9a4ed307ce2f00f', 'SystemVM Template (Ovm3)', 0, 0, 183, 1, 0, 1, 0, 'Ovm3', 0, 'Active', 0, 0, 0, 'x86_64');

-- The version history of a fresh install: create-schema.sql's 4.0.0, then one row per upgrade.

INSERT INTO version (version, updated, step) VALUES ('4.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.2.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.2.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.3.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.4.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.4.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.4.2', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.5.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.4.4', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.5.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.5.2', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.5.3', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.6.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.6.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.7.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.7.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.8.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.8.1', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.9.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.9.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.9.2.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.9.3.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.10.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.11.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.11.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.11.2.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.11.3.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.12.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.13.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.13.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.14.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.15.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.15.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.15.2.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.16.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.16.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.17.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.17.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.17.2.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.18.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.18.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.19.0.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.19.1.0', NOW(), 'Complete');

INSERT INTO version (version, updated, step) VALUES ('4.20.0.0', NOW(), 'Complete');
