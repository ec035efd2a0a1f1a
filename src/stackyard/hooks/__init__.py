"""Hooks: functions run before and after build and destroy, with stacker's contract."""
