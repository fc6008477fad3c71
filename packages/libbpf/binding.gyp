{
  "targets": [
    {
      "target_name": "wirescope_libbpf",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/map.cc",
        "native/netns.cc",
        "native/object.cc",
        "native/ringbuf.cc",
        "native/tc.cc",
        "native/tcx.cc",
        "native/test_run.cc",
        "native/tracing.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden", "-O3", "-Wall", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libbpf)", "-lelf", "-lz"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
