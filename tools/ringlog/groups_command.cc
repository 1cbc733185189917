// `ringlog groups`: not written yet; the next commit brings it.
#include <cstdio>

#include "tools/ringlog/commands.h"

namespace ringlog::tools {

int groups_command(std::span<const std::string_view>) {
    std::fprintf(stderr, "ringlog groups: not implemented yet\n");
    return 1;
}

}  // namespace ringlog::tools
