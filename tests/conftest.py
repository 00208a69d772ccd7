pytest_plugins = ["seam_harness.pytest_plugin"]
