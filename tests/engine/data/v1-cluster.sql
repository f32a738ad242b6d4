-- A first-wave (schema v1) cluster.db, made by commit a3ea160 (3 nodes, 2 pods, a deleted
-- node and pod, an open crash incident), dumped with sqlite3 iterdump.
BEGIN TRANSACTION;
CREATE TABLE config_items (
	id INTEGER NOT NULL, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
INSERT INTO "config_items" VALUES(1,1,0,'mode','env','MODE','prod');
INSERT INTO "config_items" VALUES(2,1,1,'key','secret','API_KEY','s3cret');
CREATE TABLE containers (
	id INTEGER NOT NULL, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	image VARCHAR(255) NOT NULL, 
	cpu_m INTEGER NOT NULL, 
	mem_mi INTEGER NOT NULL, 
	command JSON NOT NULL, 
	args JSON NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (pod_id, name), 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
INSERT INTO "containers" VALUES(1,1,0,'nginx','nginx:latest',500,256,'["python3"]','["-m", "http.server", "8080"]');
INSERT INTO "containers" VALUES(2,2,0,'pg','postgres:16',0,512,'[]','[]');
CREATE TABLE events (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	message TEXT NOT NULL, 
	node_id INTEGER, 
	node_name VARCHAR(63), 
	pod_id INTEGER, 
	pod_name VARCHAR(63), 
	incident_id INTEGER, 
	data JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "events" VALUES(1,'2026-12-01 21:56:53.733763','engine','Engine 0.1.0 started: runtime virtual, 0 node(s) and 0 pod(s) loaded',NULL,NULL,NULL,NULL,NULL,'{"runtime": "virtual", "adopted": 0, "removed": 0, "started": 0}');
INSERT INTO "events" VALUES(2,'2026-12-01 21:56:53.734451','node_created','Node worker-1 created (worker, 4 CPU, 8Gi)',1,'worker-1',NULL,NULL,NULL,'{"cpu_m": 4000, "mem_mi": 8192}');
INSERT INTO "events" VALUES(3,'2026-12-01 21:56:53.736956','node_started','Node worker-1 started (virtual: virtual-1)',1,'worker-1',NULL,NULL,NULL,'{"handle": "virtual-1"}');
INSERT INTO "events" VALUES(4,'2026-12-01 21:56:53.738073','node_created','Node worker-2 created (worker, 2 CPU, 4Gi)',2,'worker-2',NULL,NULL,NULL,'{"cpu_m": 2000, "mem_mi": 4096}');
INSERT INTO "events" VALUES(5,'2026-12-01 21:56:53.738577','node_started','Node worker-2 started (virtual: virtual-2)',2,'worker-2',NULL,NULL,NULL,'{"handle": "virtual-2"}');
INSERT INTO "events" VALUES(6,'2026-12-01 21:56:53.738880','node_created','Node master-1 created (master, 2 CPU, 4Gi)',3,'master-1',NULL,NULL,NULL,'{"cpu_m": 2000, "mem_mi": 4096}');
INSERT INTO "events" VALUES(7,'2026-12-01 21:56:53.739320','node_started','Node master-1 started (virtual: virtual-3)',3,'master-1',NULL,NULL,NULL,'{"handle": "virtual-3"}');
INSERT INTO "events" VALUES(8,'2026-12-01 21:56:53.739763','node_created','Node worker-gone created (worker, 1 CPU, 2Gi)',4,'worker-gone',NULL,NULL,NULL,'{"cpu_m": 1000, "mem_mi": 2048}');
INSERT INTO "events" VALUES(9,'2026-12-01 21:56:53.740279','node_started','Node worker-gone started (virtual: virtual-4)',4,'worker-gone',NULL,NULL,NULL,'{"handle": "virtual-4"}');
INSERT INTO "events" VALUES(10,'2026-12-01 21:56:53.755451','node_ready','Node master-1 is ready (first heartbeat)',3,'master-1',NULL,NULL,NULL,'{"status": "healthy", "previous": "initializing"}');
INSERT INTO "events" VALUES(11,'2026-12-01 21:56:53.776418','node_ready','Node worker-2 is ready (first heartbeat)',2,'worker-2',NULL,NULL,NULL,'{"status": "healthy", "previous": "initializing"}');
INSERT INTO "events" VALUES(12,'2026-12-01 21:56:53.784452','node_ready','Node worker-gone is ready (first heartbeat)',4,'worker-gone',NULL,NULL,NULL,'{"status": "healthy", "previous": "initializing"}');
INSERT INTO "events" VALUES(13,'2026-12-01 21:56:53.820144','node_ready','Node worker-1 is ready (first heartbeat)',1,'worker-1',NULL,NULL,NULL,'{"status": "healthy", "previous": "initializing"}');
INSERT INTO "events" VALUES(14,'2026-12-01 21:56:53.843005','pod_created','Pod web created and assigned to worker-gone (best-fit)',4,'worker-gone',1,'web',NULL,'{"cpu_m": 1000, "mem_mi": 256, "ip": "10.244.0.1"}');
INSERT INTO "events" VALUES(15,'2026-12-01 21:56:53.844941','pod_created','Pod db created and assigned to worker-2 (best-fit)',2,'worker-2',2,'db',NULL,'{"cpu_m": 2000, "mem_mi": 512, "ip": "10.244.0.2"}');
INSERT INTO "events" VALUES(16,'2026-12-01 21:56:53.845590','pod_created','Pod temp created and assigned to worker-1 (best-fit)',1,'worker-1',3,'temp',NULL,'{"cpu_m": 500, "mem_mi": 0, "ip": "10.244.0.3"}');
INSERT INTO "events" VALUES(17,'2026-12-01 21:56:53.845965','pod_deleted','Pod temp deleted from worker-1',1,'worker-1',3,'temp',NULL,'{}');
INSERT INTO "events" VALUES(18,'2026-12-01 21:56:53.850483','fault_injected','Injected crash into worker-2: the node was killed',2,'worker-2',NULL,NULL,1,'{"mode": "crash", "component": null, "duration_s": null}');
INSERT INTO "events" VALUES(19,'2026-12-01 21:56:53.989891','pod_phase','Pod web is running',4,'worker-gone',1,'web',NULL,'{"phase": "running", "previous": "scheduled"}');
INSERT INTO "events" VALUES(20,'2026-12-01 21:56:54.102597','node_detected','Node worker-2 is unhealthy: no heartbeat for 0.3 s (grace period 0.3 s)',2,'worker-2',NULL,NULL,1,'{"status": "unhealthy", "previous": "healthy", "silence_s": 0.326, "grace_period_s": 0.3}');
INSERT INTO "events" VALUES(21,'2026-12-01 21:56:54.110659','eviction_started','Evicting 1 pod(s) from worker-2 (no heartbeat for 0.3 s (grace period 0.3 s))',2,'worker-2',NULL,NULL,1,'{"pods": 1}');
INSERT INTO "events" VALUES(22,'2026-12-01 21:56:54.113748','pod_rebound','Pod db moved from worker-2 to worker-1 (worker-2 is unhealthy)',1,'worker-1',2,'db',1,'{"from": "worker-2", "to": "worker-1", "from_id": 2}');
INSERT INTO "events" VALUES(23,'2026-12-01 21:56:54.220397','pod_phase','Pod db is running',1,'worker-1',2,'db',NULL,'{"phase": "running", "previous": "scheduled"}');
INSERT INTO "events" VALUES(24,'2026-12-01 21:56:54.420386','pod_rebound','Pod web moved from worker-gone to worker-1 (node worker-gone is being deleted)',1,'worker-1',1,'web',NULL,'{"from": "worker-gone", "to": "worker-1", "from_id": 4}');
INSERT INTO "events" VALUES(25,'2026-12-01 21:56:54.421042','node_deleted','Node worker-gone deleted; 1 pod(s) moved',4,'worker-gone',NULL,NULL,NULL,'{}');
CREATE TABLE incidents (
	id INTEGER NOT NULL, 
	node_id INTEGER NOT NULL, 
	node_name VARCHAR(63) NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	outcome VARCHAR(16) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "incidents" VALUES(1,2,'worker-2','crash','2026-12-01 21:56:53.849623',NULL,'open');
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE nodes (
	id INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	node_type VARCHAR(16) NOT NULL, 
	cpu_m INTEGER NOT NULL, 
	mem_mi INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	status_reason TEXT NOT NULL, 
	components JSON NOT NULL, 
	recovery_attempts INTEGER NOT NULL, 
	runtime VARCHAR(16) NOT NULL, 
	runtime_handle VARCHAR(128), 
	token_hash VARCHAR(64) NOT NULL, 
	last_heartbeat DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "nodes" VALUES(1,'worker-1','worker',4000,8192,'healthy','','{"kubelet": "running", "container_runtime": "running", "kube_proxy": "running", "node_agent": "running"}',0,'virtual','virtual-1','9e3d366585b7c6c47bf02bfe0f4507c15c826f94849dc4729444fa61b20ef228','2026-12-01 21:56:54.420124','2026-12-01 21:56:53.734451');
INSERT INTO "nodes" VALUES(2,'worker-2','worker',2000,4096,'unhealthy','no heartbeat for 0.3 s (grace period 0.3 s)','{"kubelet": "unknown", "container_runtime": "unknown", "kube_proxy": "unknown", "node_agent": "unknown"}',0,'virtual','virtual-2','5e94c4bb10ca93fd5673f01c761998a9c8e129f739d72f3d7aa98a4eacef6380','2026-12-01 21:56:53.776369','2026-12-01 21:56:53.738073');
INSERT INTO "nodes" VALUES(3,'master-1','master',2000,4096,'healthy','','{"kubelet": "running", "container_runtime": "running", "kube_proxy": "running", "node_agent": "running", "api_server": "running", "scheduler": "running", "controller_manager": "running", "etcd": "running"}',0,'virtual','virtual-3','0cb21f2c499348705a44c574b3f5204e1a6c75ad3be471b7bf68aadb3828ee31','2026-12-01 21:56:54.357809','2026-12-01 21:56:53.738880');
CREATE TABLE pods (
	id INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	cpu_m INTEGER NOT NULL, 
	mem_mi INTEGER NOT NULL, 
	node_id INTEGER, 
	phase VARCHAR(16) NOT NULL, 
	ip VARCHAR(15) NOT NULL, 
	decision JSON, 
	reason TEXT NOT NULL, 
	report JSON, 
	last_report DATETIME, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name), 
	FOREIGN KEY(node_id) REFERENCES nodes (id) ON DELETE SET NULL, 
	UNIQUE (ip)
);
INSERT INTO "pods" VALUES(1,'web',1000,256,1,'scheduled','10.244.0.1','{"strategy": "best-fit", "node": "worker-1", "node_id": 1, "candidates": [{"node_id": 1, "node": "worker-1", "fits": true, "reasons": [], "cpu_cores_free": 2.0, "memory_mb_free": 7680}, {"node_id": 2, "node": "worker-2", "fits": false, "reasons": ["node is unhealthy (not ready)"], "cpu_cores_free": 2.0, "memory_mb_free": 4096}, {"node_id": 3, "node": "master-1", "fits": false, "reasons": ["master node: reserved for the control plane (NoSchedule)"], "cpu_cores_free": 2.0, "memory_mb_free": 4096}, {"node_id": 4, "node": "worker-gone", "fits": false, "reasons": ["node is cordoned (being deleted)", "insufficient cpu: requested 1, free 0"], "cpu_cores_free": 0.0, "memory_mb_free": 1792}], "omitted": 0, "at": "2026-12-01T21:56:54.420282+00:00"}','','[{"name": "nginx", "state": "running", "exit_code": null, "restarts": 0}]','2026-12-01 21:56:53.989856','2026-12-01 21:56:53.843005');
INSERT INTO "pods" VALUES(2,'db',2000,512,1,'running','10.244.0.2','{"strategy": "best-fit", "node": "worker-1", "node_id": 1, "candidates": [{"node_id": 1, "node": "worker-1", "fits": true, "reasons": [], "cpu_cores_free": 4.0, "memory_mb_free": 8192}, {"node_id": 2, "node": "worker-2", "fits": false, "reasons": ["node is unhealthy (not ready)", "insufficient cpu: requested 2, free 0"], "cpu_cores_free": 0.0, "memory_mb_free": 3584}, {"node_id": 3, "node": "master-1", "fits": false, "reasons": ["master node: reserved for the control plane (NoSchedule)"], "cpu_cores_free": 2.0, "memory_mb_free": 4096}, {"node_id": 4, "node": "worker-gone", "fits": false, "reasons": ["insufficient cpu: requested 2, free 0"], "cpu_cores_free": 0.0, "memory_mb_free": 1792}], "omitted": 0, "at": "2026-12-01T21:56:54.113613+00:00"}','','[{"name": "pg", "state": "running", "exit_code": null, "restarts": 0}]','2026-12-01 21:56:54.220361','2026-12-01 21:56:53.844941');
CREATE TABLE volumes (
	id INTEGER NOT NULL, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	size INTEGER, 
	path VARCHAR(255), 
	PRIMARY KEY (id), 
	UNIQUE (pod_id, name), 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
INSERT INTO "volumes" VALUES(1,1,0,'data','emptyDir',1,'/data');
CREATE INDEX ix_events_node ON events (node_id);
CREATE INDEX ix_events_incident ON events (incident_id);
CREATE INDEX ix_pods_node_id ON pods (node_id);
CREATE INDEX ix_containers_pod_id ON containers (pod_id);
CREATE INDEX ix_volumes_pod_id ON volumes (pod_id);
CREATE INDEX ix_config_items_pod_id ON config_items (pod_id);
COMMIT;
