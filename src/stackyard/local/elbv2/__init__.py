"""ELBv2 beyond moto: weighted forward actions, targets registered by ECS with health that
follows their tasks, and simulated traffic through listeners."""
