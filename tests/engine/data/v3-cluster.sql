BEGIN TRANSACTION;
CREATE TABLE config_items (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	value TEXT NOT NULL, 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
CREATE TABLE containers (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	image VARCHAR(255) NOT NULL, 
	cpu_m INTEGER NOT NULL, 
	mem_mi INTEGER NOT NULL, 
	command JSON NOT NULL, 
	args JSON NOT NULL, 
	extra JSON, 
	UNIQUE (pod_id, name), 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
INSERT INTO "containers" VALUES(1,1,0,'c','nginx',0,0,'[]','[]','{"readiness": null, "liveness": null, "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}]}');
INSERT INTO "containers" VALUES(2,2,0,'c','nginx',0,0,'[]','[]','{"readiness": null, "liveness": null, "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}]}');
INSERT INTO "containers" VALUES(3,3,0,'c','nginx',0,0,'[]','[]','{"readiness": null, "liveness": null, "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}]}');
CREATE TABLE deployments (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	uid VARCHAR(36) NOT NULL, 
	namespace VARCHAR(63) NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	labels JSON NOT NULL, 
	annotations JSON NOT NULL, 
	replicas INTEGER NOT NULL, 
	selector JSON NOT NULL, 
	template JSON NOT NULL, 
	strategy JSON NOT NULL, 
	min_ready_seconds INTEGER NOT NULL, 
	progress_deadline_seconds INTEGER NOT NULL, 
	revision_history_limit INTEGER NOT NULL, 
	paused BOOLEAN NOT NULL, 
	status JSON NOT NULL, 
	revision INTEGER NOT NULL, 
	generation INTEGER NOT NULL, 
	collision_count INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	resource_version BIGINT NOT NULL, 
	UNIQUE (namespace, name), 
	UNIQUE (uid)
);
INSERT INTO "deployments" VALUES(1,'ae8b5657-19ba-44d3-ad8e-4c7e835dfa6d','default','web','{}','{}',2,'{"match_labels": {"app": "web"}, "match_expressions": []}','{"labels": {"app": "web"}, "annotations": {}, "cpu_m": 100, "mem_mi": 0, "containers": [{"name": "c", "image": "nginx", "cpu_m": 0, "mem_mi": 0, "command": [], "args": [], "extra": {"readiness": null, "liveness": null, "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}]}}], "volumes": [], "config": []}','{"type": "RollingUpdate", "max_surge": "25%", "max_unavailable": "25%"}',0,600,10,0,'{"replicas": 2, "updated": 2, "ready": 2, "available": 2, "unavailable": 0, "terminating": 0, "observed_generation": 1, "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "last_update_time": "2026-12-03T06:05:14.188315+00:00", "last_transition_time": "2026-12-03T06:05:14.188315+00:00"}, {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet \"web-5vd8d47s8q\" has successfully progressed.", "last_update_time": "2026-12-03T06:05:14.188315+00:00", "last_transition_time": "2026-12-03T06:05:14.110630+00:00"}]}',1,1,0,'2026-12-03 06:05:14.110150',10);
CREATE TABLE events (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	at DATETIME NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	message TEXT NOT NULL, 
	object_kind VARCHAR(32), 
	object_id INTEGER, 
	object_uid VARCHAR(36), 
	object_name VARCHAR(63), 
	object_namespace VARCHAR(63), 
	related_kind VARCHAR(32), 
	related_id INTEGER, 
	related_uid VARCHAR(36), 
	related_name VARCHAR(63), 
	incident_id INTEGER, 
	resource_version BIGINT NOT NULL, 
	data JSON NOT NULL
);
INSERT INTO "events" VALUES(1,'2026-12-03 06:05:14.081131','engine','Engine 0.1.0 started: runtime virtual, 0 node(s) and 0 pod(s) loaded',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,2,'{"runtime": "virtual", "adopted": 0, "removed": 0, "started": 0}');
INSERT INTO "events" VALUES(2,'2026-12-03 06:05:14.081527','node_created','Node w1 created (worker, 4 CPU, 8Gi)','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,NULL,NULL,NULL,NULL,NULL,3,'{"cpu_m": 4000, "mem_mi": 8192}');
INSERT INTO "events" VALUES(3,'2026-12-03 06:05:14.083342','node_started','Node w1 started (virtual: virtual-1)','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,NULL,NULL,NULL,NULL,NULL,4,'{"handle": "virtual-1"}');
INSERT INTO "events" VALUES(4,'2026-12-03 06:05:14.085980','node_ready','Node w1 is ready (first heartbeat)','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,NULL,NULL,NULL,NULL,NULL,5,'{"status": "healthy", "previous": "initializing"}');
INSERT INTO "events" VALUES(5,'2026-12-03 06:05:14.107900','pod_created','Pod solo created and assigned to w1 (best-fit)','Pod',1,'e26c6cf3-db8c-4a4f-af98-e5e55c7117c4','solo','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,6,'{"cpu_m": 100, "mem_mi": 0, "ip": "127.244.0.1"}');
INSERT INTO "events" VALUES(6,'2026-12-03 06:05:14.110150','deployment_created','Deployment web created: 2 replica(s), RollingUpdate','Deployment',1,'ae8b5657-19ba-44d3-ad8e-4c7e835dfa6d','web','default',NULL,NULL,NULL,NULL,NULL,7,'{"replicas": 2, "strategy": {"type": "RollingUpdate", "max_surge": "25%", "max_unavailable": "25%"}}');
INSERT INTO "events" VALUES(7,'2026-12-03 06:05:14.110756','replicaset_created','ReplicaSet web-5vd8d47s8q created with 2 replica(s) for Deployment web (revision 1)','ReplicaSet',1,'479dead5-8376-4977-9cae-c874c5d654ec','web-5vd8d47s8q','default',NULL,NULL,NULL,NULL,NULL,8,'{"replicas": 2, "revision": 1}');
INSERT INTO "events" VALUES(8,'2026-12-03 06:05:14.110756','pod_created','Pod web-5vd8d47s8q-b5pzs created and assigned to w1 (best-fit)','Pod',2,'eace7c62-8789-4fe1-a702-2fc3b7c1a7bb','web-5vd8d47s8q-b5pzs','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,8,'{"cpu_m": 100, "mem_mi": 0, "ip": "127.244.0.2"}');
INSERT INTO "events" VALUES(9,'2026-12-03 06:05:14.110756','pod_created','Pod web-5vd8d47s8q-d9njt created and assigned to w1 (best-fit)','Pod',3,'3cd12882-16bf-4cd7-ae2e-3765fa8dc38b','web-5vd8d47s8q-d9njt','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,8,'{"cpu_m": 100, "mem_mi": 0, "ip": "127.244.0.3"}');
INSERT INTO "events" VALUES(10,'2026-12-03 06:05:14.110756','replicaset_scaled','ReplicaSet web-5vd8d47s8q: 0 → 2 pod(s)','ReplicaSet',1,'479dead5-8376-4977-9cae-c874c5d654ec','web-5vd8d47s8q','default',NULL,NULL,NULL,NULL,NULL,8,'{"from": 0, "to": 2, "created": 2, "deleted": 0, "replaced": 0}');
INSERT INTO "events" VALUES(11,'2026-12-03 06:05:14.110756','deployment_scaled','Deployment web: Created a new ReplicaSet with 2 replica(s) (revision 1)','Deployment',1,'ae8b5657-19ba-44d3-ad8e-4c7e835dfa6d','web','default',NULL,NULL,NULL,NULL,NULL,8,'{}');
INSERT INTO "events" VALUES(12,'2026-12-03 06:05:14.185460','pod_phase','Pod solo is running','Pod',1,'e26c6cf3-db8c-4a4f-af98-e5e55c7117c4','solo','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,9,'{"phase": "running", "previous": "scheduled"}');
INSERT INTO "events" VALUES(13,'2026-12-03 06:05:14.185460','pod_phase','Pod web-5vd8d47s8q-b5pzs is running','Pod',2,'eace7c62-8789-4fe1-a702-2fc3b7c1a7bb','web-5vd8d47s8q-b5pzs','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,9,'{"phase": "running", "previous": "scheduled"}');
INSERT INTO "events" VALUES(14,'2026-12-03 06:05:14.185460','pod_phase','Pod web-5vd8d47s8q-d9njt is running','Pod',3,'3cd12882-16bf-4cd7-ae2e-3765fa8dc38b','web-5vd8d47s8q-d9njt','default','Node',1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1',NULL,9,'{"phase": "running", "previous": "scheduled"}');
INSERT INTO "events" VALUES(15,'2026-12-03 06:05:14.188498','deployment_complete','Deployment web: Rollout complete: ReplicaSet "web-5vd8d47s8q" has 2 available replica(s)','Deployment',1,'ae8b5657-19ba-44d3-ad8e-4c7e835dfa6d','web','default',NULL,NULL,NULL,NULL,NULL,10,'{}');
CREATE TABLE incidents (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	node_id INTEGER NOT NULL, 
	node_uid VARCHAR(36) NOT NULL, 
	node_name VARCHAR(63) NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	opened_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	outcome VARCHAR(16) NOT NULL
);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','3');
INSERT INTO "meta" VALUES('resource_version','10');
CREATE TABLE namespaces (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	uid VARCHAR(36) NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	labels JSON NOT NULL, 
	annotations JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	resource_version BIGINT NOT NULL, 
	UNIQUE (uid), 
	UNIQUE (name)
);
INSERT INTO "namespaces" VALUES(1,'4f1a1304-a63b-4c21-b537-c754fc9a6f16','default','{"kubernetes.io/metadata.name": "default"}','{}','2026-12-03 06:05:14.079330',1);
INSERT INTO "namespaces" VALUES(2,'f8062728-2c36-497d-b868-6f524b963333','kube-system','{"kubernetes.io/metadata.name": "kube-system"}','{}','2026-12-03 06:05:14.079330',1);
INSERT INTO "namespaces" VALUES(3,'c652d35d-5110-4d6c-8bee-72f699ec72d3','kube-public','{"kubernetes.io/metadata.name": "kube-public"}','{}','2026-12-03 06:05:14.079330',1);
INSERT INTO "namespaces" VALUES(4,'24205c49-50c0-46e8-9c89-d5f6ebb720e6','kube-node-lease','{"kubernetes.io/metadata.name": "kube-node-lease"}','{}','2026-12-03 06:05:14.079330',1);
CREATE TABLE nodes (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	uid VARCHAR(36) NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	node_type VARCHAR(16) NOT NULL, 
	labels JSON NOT NULL, 
	annotations JSON NOT NULL, 
	cpu_m INTEGER NOT NULL, 
	mem_mi INTEGER NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	status_reason TEXT NOT NULL, 
	components JSON NOT NULL, 
	recovery_attempts INTEGER NOT NULL, 
	runtime VARCHAR(16) NOT NULL, 
	runtime_handle VARCHAR(128), 
	token_hash VARCHAR(64) NOT NULL, 
	unschedulable BOOLEAN NOT NULL, 
	last_heartbeat DATETIME, 
	created_at DATETIME NOT NULL, 
	resource_version BIGINT NOT NULL, 
	UNIQUE (uid), 
	UNIQUE (name)
);
INSERT INTO "nodes" VALUES(1,'3cf298f2-98a1-4d1b-924c-1f27dbe69ab8','w1','worker','{}','{}',4000,8192,'healthy','','{"kubelet": "running", "container_runtime": "running", "kube_proxy": "running", "node_agent": "running"}',0,'virtual','virtual-1','56b9c5dbaf5b6b7d57b8ec865ff15325b6f200c5f338f035c2c37b443b50ade4',0,'2026-12-03 06:05:14.185444','2026-12-03 06:05:14.081527',5);
CREATE TABLE pods (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	uid VARCHAR(36) NOT NULL, 
	namespace VARCHAR(63) NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	labels JSON NOT NULL, 
	annotations JSON NOT NULL, 
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
	resource_version BIGINT NOT NULL, 
	owner_kind VARCHAR(32), 
	owner_id INTEGER, 
	owner_uid VARCHAR(36), 
	owner_name VARCHAR(63), 
	ready_since DATETIME, 
	UNIQUE (namespace, name), 
	UNIQUE (uid), 
	FOREIGN KEY(node_id) REFERENCES nodes (id) ON DELETE SET NULL, 
	UNIQUE (ip)
);
INSERT INTO "pods" VALUES(1,'e26c6cf3-db8c-4a4f-af98-e5e55c7117c4','default','solo','{"app": "solo"}','{}',100,0,1,'running','127.244.0.1','{"strategy": "best-fit", "node": "w1", "node_id": 1, "candidates": [{"node_id": 1, "node": "w1", "fits": true, "reasons": [], "cpu_cores_free": 4.0, "memory_mb_free": 8192}], "omitted": 0, "at": "2026-12-03T06:05:14.107917+00:00"}','','[{"name": "c", "state": "running", "exit_code": null, "restarts": 0, "reason": "", "ready": true}]','2026-12-03 06:05:14.185460','2026-12-03 06:05:14.107900',9,NULL,NULL,NULL,NULL,'2026-12-03 06:05:14.185460');
INSERT INTO "pods" VALUES(2,'eace7c62-8789-4fe1-a702-2fc3b7c1a7bb','default','web-5vd8d47s8q-b5pzs','{"app": "web", "pod-template-hash": "5vd8d47s8q"}','{}',100,0,1,'running','127.244.0.2','{"strategy": "best-fit", "node": "w1", "node_id": 1, "candidates": [{"node_id": 1, "node": "w1", "fits": true, "reasons": [], "cpu_cores_free": 3.9, "memory_mb_free": 8192}], "omitted": 0, "at": "2026-12-03T06:05:14.111169+00:00"}','','[{"name": "c", "state": "running", "exit_code": null, "restarts": 0, "reason": "", "ready": true}]','2026-12-03 06:05:14.185460','2026-12-03 06:05:14.110756',9,'ReplicaSet',1,'479dead5-8376-4977-9cae-c874c5d654ec','web-5vd8d47s8q','2026-12-03 06:05:14.185460');
INSERT INTO "pods" VALUES(3,'3cd12882-16bf-4cd7-ae2e-3765fa8dc38b','default','web-5vd8d47s8q-d9njt','{"app": "web", "pod-template-hash": "5vd8d47s8q"}','{}',100,0,1,'running','127.244.0.3','{"strategy": "best-fit", "node": "w1", "node_id": 1, "candidates": [{"node_id": 1, "node": "w1", "fits": true, "reasons": [], "cpu_cores_free": 3.8, "memory_mb_free": 8192}], "omitted": 0, "at": "2026-12-03T06:05:14.111454+00:00"}','','[{"name": "c", "state": "running", "exit_code": null, "restarts": 0, "reason": "", "ready": true}]','2026-12-03 06:05:14.185460','2026-12-03 06:05:14.110756',9,'ReplicaSet',1,'479dead5-8376-4977-9cae-c874c5d654ec','web-5vd8d47s8q','2026-12-03 06:05:14.185460');
CREATE TABLE replicasets (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	uid VARCHAR(36) NOT NULL, 
	namespace VARCHAR(63) NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	labels JSON NOT NULL, 
	annotations JSON NOT NULL, 
	replicas INTEGER NOT NULL, 
	selector JSON NOT NULL, 
	template JSON NOT NULL, 
	min_ready_seconds INTEGER NOT NULL, 
	owner_id INTEGER, 
	owner_uid VARCHAR(36), 
	owner_name VARCHAR(63), 
	revision INTEGER NOT NULL, 
	template_hash VARCHAR(16) NOT NULL, 
	generation INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	resource_version BIGINT NOT NULL, 
	UNIQUE (namespace, name), 
	UNIQUE (uid)
);
INSERT INTO "replicasets" VALUES(1,'479dead5-8376-4977-9cae-c874c5d654ec','default','web-5vd8d47s8q','{"app": "web", "pod-template-hash": "5vd8d47s8q"}','{"deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "2", "deployment.kubernetes.io/max-replicas": "3"}',2,'{"match_labels": {"app": "web", "pod-template-hash": "5vd8d47s8q"}, "match_expressions": []}','{"labels": {"app": "web"}, "annotations": {}, "cpu_m": 100, "mem_mi": 0, "containers": [{"name": "c", "image": "nginx", "cpu_m": 0, "mem_mi": 0, "command": [], "args": [], "extra": {"readiness": null, "liveness": null, "ports": [{"name": "http", "container_port": 8080, "protocol": "TCP"}]}}], "volumes": [], "config": []}',0,1,'ae8b5657-19ba-44d3-ad8e-4c7e835dfa6d','web',1,'5vd8d47s8q',1,'2026-12-03 06:05:14.110756',8);
CREATE TABLE volumes (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	pod_id INTEGER NOT NULL, 
	position INTEGER NOT NULL, 
	name VARCHAR(63) NOT NULL, 
	type VARCHAR(16) NOT NULL, 
	size INTEGER, 
	path VARCHAR(255), 
	UNIQUE (pod_id, name), 
	FOREIGN KEY(pod_id) REFERENCES pods (id) ON DELETE CASCADE
);
CREATE INDEX ix_replicasets_owner_id ON replicasets (owner_id);
CREATE INDEX ix_events_related ON events (related_id, related_kind);
CREATE INDEX ix_events_incident ON events (incident_id);
CREATE INDEX ix_events_object ON events (object_id, object_kind);
CREATE INDEX ix_pods_node_id ON pods (node_id);
CREATE INDEX ix_pods_owner_id ON pods (owner_id);
CREATE INDEX ix_containers_pod_id ON containers (pod_id);
CREATE INDEX ix_volumes_pod_id ON volumes (pod_id);
CREATE INDEX ix_config_items_pod_id ON config_items (pod_id);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('namespaces',4);
INSERT INTO "sqlite_sequence" VALUES('events',15);
INSERT INTO "sqlite_sequence" VALUES('nodes',1);
INSERT INTO "sqlite_sequence" VALUES('pods',3);
INSERT INTO "sqlite_sequence" VALUES('containers',3);
INSERT INTO "sqlite_sequence" VALUES('deployments',1);
INSERT INTO "sqlite_sequence" VALUES('replicasets',1);
COMMIT;
