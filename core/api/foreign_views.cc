#include "core/api/foreign_views.h"

namespace ringlog::core::api {
namespace {

io::Task<void> send_home(ShardSet& set, ShardId home, std::vector<io::BufferView> views) {
    // Named, not a temporary in the co_await (g++ 12 destroys those twice).
    auto drop = [views = std::move(views)]() mutable { views.clear(); };
    co_await set.submit_to(home, std::move(drop));
}

}  // namespace

void ForeignViews::release() {
    if (views_.empty()) {
        return;
    }
    Shard& here = Shard::current();
    if (here.id() == home_) {
        views_.clear();
        return;
    }
    here.spawn(send_home(*set_, home_, std::exchange(views_, {})));
}

}  // namespace ringlog::core::api
