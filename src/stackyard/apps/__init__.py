"""Apps on ECS: environments, manifests, releases, config vars, formation and deploys as
plans, behind one service layer (:mod:`stackyard.apps.service`) that the CLI calls."""
