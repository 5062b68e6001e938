-- The CloudStack tables csdiag reads, in the shapes of cloudstack.md §2 (4.18+), trimmed to the
-- columns the checks use plus their neighbours. Enums are stored by name, as CloudStack does.
CREATE TABLE version (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  version CHAR(40) NOT NULL UNIQUE,
  updated DATETIME NOT NULL,
  step CHAR(32) NOT NULL
);
CREATE TABLE configuration (
  category VARCHAR(255) NOT NULL DEFAULT 'Advanced',
  instance VARCHAR(255) NOT NULL,
  component VARCHAR(255) NOT NULL DEFAULT 'management-server',
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  value VARCHAR(8191),
  description VARCHAR(1024),
  default_value VARCHAR(8191),
  updated DATETIME,
  scope VARCHAR(255),
  is_dynamic TINYINT(1) NOT NULL DEFAULT 0
);
CREATE TABLE data_center (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255),
  uuid VARCHAR(40),
  allocation_state VARCHAR(32) NOT NULL DEFAULT 'Enabled',
  type VARCHAR(8) NOT NULL DEFAULT 'Core',
  removed DATETIME
);
CREATE TABLE image_store (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  image_provider_name VARCHAR(255) NOT NULL,
  protocol VARCHAR(255) NOT NULL,
  url VARCHAR(2048),
  data_center_id BIGINT UNSIGNED,
  scope VARCHAR(255),
  role VARCHAR(255),
  uuid VARCHAR(255),
  parent VARCHAR(255),
  created DATETIME,
  removed DATETIME,
  total_size BIGINT UNSIGNED,
  used_bytes BIGINT UNSIGNED,
  readonly TINYINT(1) NOT NULL DEFAULT 0
);
CREATE TABLE image_store_details (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  value VARCHAR(255) NOT NULL,
  display TINYINT(1) NOT NULL DEFAULT 1
);
CREATE TABLE vm_template (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  unique_name VARCHAR(255) NOT NULL,
  name VARCHAR(255) NOT NULL,
  uuid VARCHAR(40),
  public INT(1) UNSIGNED NOT NULL,
  featured INT(1) UNSIGNED NOT NULL,
  type VARCHAR(32),
  hvm INT(1) UNSIGNED NOT NULL,
  bits INT(6) UNSIGNED NOT NULL,
  url VARCHAR(255),
  format VARCHAR(32) NOT NULL,
  created DATETIME NOT NULL,
  removed DATETIME,
  account_id BIGINT UNSIGNED NOT NULL,
  checksum VARCHAR(255),
  display_text VARCHAR(4096),
  guest_os_id BIGINT UNSIGNED NOT NULL,
  bootable INT(1) UNSIGNED NOT NULL DEFAULT 1,
  cross_zones INT(1) UNSIGNED NOT NULL DEFAULT 0,
  extractable INT(1) UNSIGNED NOT NULL DEFAULT 0,
  hypervisor_type VARCHAR(32),
  source_template_id BIGINT UNSIGNED,
  template_tag VARCHAR(255),
  size BIGINT UNSIGNED,
  state VARCHAR(255),
  direct_download TINYINT(1) NOT NULL DEFAULT 0,
  deploy_as_is TINYINT(1) NOT NULL DEFAULT 0,
  user_data_id BIGINT UNSIGNED
);
CREATE TABLE template_store_ref (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  store_id BIGINT UNSIGNED,
  template_id BIGINT UNSIGNED NOT NULL,
  created DATETIME NOT NULL,
  last_updated DATETIME,
  job_id VARCHAR(255),
  download_pct INT(10) UNSIGNED,
  size BIGINT UNSIGNED,
  store_role VARCHAR(255),
  physical_size BIGINT UNSIGNED DEFAULT 0,
  download_state VARCHAR(255),
  error_str VARCHAR(255),
  local_path VARCHAR(255),
  install_path VARCHAR(255),
  url VARCHAR(2048),
  download_url VARCHAR(2048),
  download_url_created DATETIME,
  state VARCHAR(255) NOT NULL,
  destroyed TINYINT(1) DEFAULT 0,
  is_copy TINYINT(1) NOT NULL DEFAULT 0,
  update_count BIGINT UNSIGNED,
  ref_cnt BIGINT UNSIGNED DEFAULT 0,
  updated DATETIME,
  INDEX (store_id), INDEX (template_id), INDEX (install_path)
);
CREATE TABLE vm_instance (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  uuid VARCHAR(40),
  instance_name VARCHAR(255) NOT NULL,
  state VARCHAR(32) NOT NULL,
  vm_template_id BIGINT UNSIGNED,
  guest_os_id BIGINT UNSIGNED NOT NULL DEFAULT 1,
  private_ip_address CHAR(40),
  host_id BIGINT UNSIGNED,
  last_host_id BIGINT UNSIGNED,
  data_center_id BIGINT UNSIGNED NOT NULL,
  type VARCHAR(32) NOT NULL,
  created DATETIME NOT NULL,
  removed DATETIME,
  update_time DATETIME
);
CREATE TABLE host (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  uuid VARCHAR(40),
  status VARCHAR(32) NOT NULL,
  type VARCHAR(32) NOT NULL,
  private_ip_address CHAR(40) NOT NULL,
  data_center_id BIGINT UNSIGNED NOT NULL,
  version VARCHAR(40),
  disconnected DATETIME,
  last_ping BIGINT UNSIGNED NOT NULL DEFAULT 0,
  resource_state VARCHAR(32) NOT NULL DEFAULT 'Enabled',
  created DATETIME,
  removed DATETIME
);
CREATE TABLE networks (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255),
  traffic_type VARCHAR(32) NOT NULL,
  data_center_id BIGINT UNSIGNED NOT NULL,
  removed DATETIME
);
CREATE TABLE nics (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  instance_id BIGINT UNSIGNED,
  ip4_address CHAR(40),
  network_id BIGINT UNSIGNED NOT NULL,
  mtu INT,
  removed DATETIME
);
CREATE TABLE secondary_storage_vm (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  public_mac_address VARCHAR(17),
  public_ip_address CHAR(40),
  public_netmask VARCHAR(15),
  guid VARCHAR(255) NOT NULL,
  nfs_share VARCHAR(255) NOT NULL,
  last_update DATETIME,
  role VARCHAR(64) NOT NULL DEFAULT 'templateProcessor'
);
CREATE TABLE alert (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  type INT(1) UNSIGNED NOT NULL,
  subject VARCHAR(999),
  data_center_id BIGINT UNSIGNED NOT NULL,
  created DATETIME,
  resolved DATETIME,
  archived TINYINT(1) NOT NULL DEFAULT 0
)
