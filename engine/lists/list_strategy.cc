#include "engine/lists/list_strategy.h"

#include "engine/lists/keyset_chain_strategy.h"
#include "engine/lists/offset_strategy.h"
#include "engine/lists/parallel_keyset_strategy.h"
#include "engine/lists/v3_list_strategy.h"
#include "engine/lists/v3_parallel_keyset.h"

namespace b24gate {

absl::StatusOr<std::unique_ptr<ListStrategy>> MakeListStrategy(ListStrategyKind kind,
                                                               ListContext* context,
                                                               const ListShape& shape,
                                                               const Json& resume) {
  switch (kind) {
    case ListStrategyKind::kOffset: {
      auto s = OffsetStrategy::Create(context, resume);
      if (!s.ok()) return s.status();
      return std::unique_ptr<ListStrategy>(std::move(*s));
    }
    case ListStrategyKind::kKeysetChain: {
      auto s = KeysetChainStrategy::Create(context, shape, resume);
      if (!s.ok()) return s.status();
      return std::unique_ptr<ListStrategy>(std::move(*s));
    }
    case ListStrategyKind::kV3Keyset:
    case ListStrategyKind::kV3Tail:
    case ListStrategyKind::kV3Offset: {
      auto s = V3ListStrategy::Create(kind, context, resume);
      if (!s.ok()) return s.status();
      return std::unique_ptr<ListStrategy>(std::move(*s));
    }
    case ListStrategyKind::kV3ParallelKeyset: {
      auto s = V3ParallelKeysetStrategy::Create(context, resume);
      if (!s.ok()) return s.status();
      return std::unique_ptr<ListStrategy>(std::move(*s));
    }
    case ListStrategyKind::kParallelKeyset:
    case ListStrategyKind::kDefault: {
      auto s = ParallelKeysetStrategy::Create(context, shape, resume, context->read_ahead_bytes());
      if (!s.ok()) return s.status();
      return std::unique_ptr<ListStrategy>(std::move(*s));
    }
  }
  return absl::InvalidArgumentError("strategy: unknown");
}

}  // namespace b24gate
