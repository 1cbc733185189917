// ForeignViews: log buffer views read on one shard and sent from another. A BufferRef counts
// with a plain integer (io/buffer.h), so a view must be dropped on the shard whose log made it:
// when the views die elsewhere, they travel home first and are released there. On their home
// shard they are simply dropped. Move-only; the views are never copied away from home.
#pragma once

#include <utility>
#include <vector>

#include "core/shard_set.h"
#include "io/buffer.h"

namespace ringlog::core::api {

class ForeignViews {
public:
    ForeignViews() = default;

    ForeignViews(ShardSet& set, ShardId home, std::vector<io::BufferView> views)
        : set_(&set), home_(home), views_(std::move(views)) {}

    ForeignViews(ForeignViews&& other) noexcept
        : set_(other.set_), home_(other.home_), views_(std::exchange(other.views_, {})) {}

    ForeignViews& operator=(ForeignViews&& other) noexcept {
        if (this != &other) {
            release();
            set_ = other.set_;
            home_ = other.home_;
            views_ = std::exchange(other.views_, {});
        }
        return *this;
    }

    ForeignViews(const ForeignViews&) = delete;
    ForeignViews& operator=(const ForeignViews&) = delete;

    ~ForeignViews() { release(); }

    const std::vector<io::BufferView>& views() const { return views_; }

private:
    void release();

    ShardSet* set_ = nullptr;
    ShardId home_{0};
    std::vector<io::BufferView> views_;
};

}  // namespace ringlog::core::api
