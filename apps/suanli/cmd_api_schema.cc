// suanli api-schema (hidden): the OpenAPI document's record schemas from the
// records' tables of fields. --write FILE rewrites those schemas in FILE
// (scripts/gen-openapi.sh: data/api/openapi.json); without it, prints them.
#include <cstdio>

#include "commands.h"
#include "server/openapi_schema.h"

namespace suanli::app {

void RegisterApiSchema(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("api-schema", "");  // no description: not listed in --help
  auto file = std::make_shared<std::string>();
  cmd->add_option("--write", *file, "the OpenAPI document whose record schemas to rewrite");
  cmd->callback([exit_code, file]() {
    if (file->empty()) {
      std::printf("%s\n", server::GeneratedSchemas().dump(2).c_str());
      *exit_code = 0;
      return;
    }
    Status st = server::WriteGeneratedSchemas(*file);
    if (!st.ok()) {
      std::fprintf(stderr, "suanli api-schema: %s\n", st.message().c_str());
      *exit_code = 1;
      return;
    }
    *exit_code = 0;
  });
}

}  // namespace suanli::app
