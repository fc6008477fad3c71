{
  "targets": [
    {
      "target_name": "wirescope_libbpf",
      "sources": ["native/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-Wall", "-Wno-missing-field-initializers", "<!@(pkg-config --cflags libbpf)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libbpf)", "-lelf", "-lz"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
    }
  ]
}
