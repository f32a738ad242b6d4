"""The Services' data plane (kube-proxy's role), in the engine process but off its loop.

``tables.py`` turns a ServiceView into an immutable routing table; ``balancer.py`` picks an
endpoint (round robin, ClientIP affinity); ``splice.py`` carries bytes between a client and
an endpoint; ``responder.py`` answers for virtual pods; ``thread.py`` runs the listeners on
an event loop of their own; ``service_proxy.py`` follows the engine's commits and hands the
thread new tables.
"""
