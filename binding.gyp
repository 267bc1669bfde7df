{
  "targets": [
    {
      # The child zone: its own objects, so scripts/check-child-symbols.js can list what they call.
      "target_name": "vircommand_child",
      "type": "static_library",
      "sources": [
        "native/child/child_exec.cc",
        "native/child/child_fds.cc",
        "native/child/child_daemon.cc",
        "native/child/child_pidfile.cc",
        "native/child/child_creds.cc",
        "native/child/child_steps.cc",
        "native/child/child_ns.cc",
        "native/child/child_mounts.cc",
        "native/child/child_sched.cc",
        "native/child/child_lsm.cc",
        "native/child/child_errno.cc",
        "native/child/child_uts.cc",
        "native/child/child_seccomp.cc"
      ],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-fno-stack-protector", "-fPIC", "-O2", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-omit-frame-pointer"]
    },
    {
      "target_name": "vircommand",
      "dependencies": ["vircommand_child", "<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "sources": [
        "native/core/stage.cc",
        "native/core/spawn.cc",
        "native/core/spawn_fds.cc",
        "native/core/build_child_plan.cc",
        "native/core/clone_ns.cc",
        "native/core/cgroup_check.cc",
        "native/core/mount_plan.cc",
        "native/core/idmap_helper.cc",
        "native/core/clone_cgroup.cc",
        "native/core/clone_probe.cc",
        "native/core/io_session.cc",
        "native/core/output_buffer.cc",
        "native/core/run_sync.cc",
        "native/glue/mounts_from_js.cc",
        "native/glue/plan_from_js.cc",
        "native/glue/plan_fields.cc",
        "native/glue/plan_fds_from_js.cc",
        "native/glue/plan_creds_from_js.cc",
        "native/glue/plan_steps_from_js.cc",
        "native/glue/result_to_js.cc",
        "native/glue/child_handle.cc",
        "native/glue/pid_wait.cc",
        "native/glue/event_loop.cc",
        "native/glue/pidfile_tools.cc",
        "native/glue/user_db.cc",
        "native/glue/addon.cc"
      ],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: while a Worker is being terminated, N-API calls
      # fail because JavaScript can no longer run; node-addon-api would turn the throw of that
      # failure into a fatal error that aborts the whole process (native/glue/addon_data.h).
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-fno-exceptions", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-ldl"]
    }
  ]
}
