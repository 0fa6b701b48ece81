// The ordered buffer of a parallel keyset read: pieces read out of order come
// back in id order, gaps hold delivery, empty ranges move it on, and what is
// held is counted in bytes, so wide rows weigh what they cost.
#include "engine/lists/range_buffer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace b24gate::range_buffer_test {
namespace {

std::vector<Json> Rows(std::vector<int64_t> ids, size_t padding = 0) {
  std::vector<Json> rows;
  for (int64_t id : ids) rows.push_back(Json{{"ID", id}, {"TEXT", std::string(padding, 'x')}});
  return rows;
}

std::vector<int64_t> IdsOf(const std::vector<Json>& rows) {
  std::vector<int64_t> ids;
  for (const Json& r : rows) ids.push_back(r["ID"].get<int64_t>());
  return ids;
}

struct Piece {
  int64_t after, upto;
  std::vector<int64_t> ids;
};

struct Order {
  std::vector<Piece> added;                  // in this order
  std::vector<std::vector<int64_t>> popped;  // PopNext until nothing is next
  int64_t delivered_upto;                    // then
  int64_t items_left;
};

class RangeBufferOrder : public ::testing::TestWithParam<Order> {};

TEST_P(RangeBufferOrder, HandsPiecesBackInIdOrder) {
  const Order& o = GetParam();
  OrderedRangeBuffer buffer(0);
  for (const Piece& p : o.added) buffer.Add(p.after, p.upto, Rows(p.ids));
  std::vector<std::vector<int64_t>> popped;
  for (int i = 0; i < 100; ++i) {
    auto piece = buffer.PopNext();
    if (!piece) break;
    popped.push_back(IdsOf(piece->items));
  }
  EXPECT_EQ(popped, o.popped);
  EXPECT_EQ(buffer.delivered_upto(), o.delivered_upto);
  EXPECT_EQ(buffer.items(), o.items_left);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangeBufferOrder,
    ::testing::Values(
        // Read backwards, delivered forwards.
        Order{{{200, 300, {250}}, {100, 200, {150, 160}}, {0, 100, {5, 50}}},
              {{5, 50}, {150, 160}, {250}}, 300, 0},
        // A gap (ids 100..200 not read yet) holds back what lies after it.
        Order{{{0, 100, {5}}, {200, 300, {250}}}, {{5}}, 100, 1},
        // A range read to its end with nothing in it moves delivery on.
        Order{{{100, 200, {}}, {200, 300, {201}}, {0, 100, {1}}}, {{1}, {}, {201}}, 300, 0},
        // An interval that is no interval (nothing read, nothing closed) is
        // no piece.
        Order{{{0, 0, {}}, {0, 10, {3}}}, {{3}}, 10, 0}));

TEST(RangeBuffer, DeliveredStraightMovesDeliveryOn) {
  OrderedRangeBuffer buffer(0);
  buffer.Add(100, 200, Rows({150}));
  EXPECT_FALSE(buffer.PopNext().has_value());
  EXPECT_TRUE(buffer.IsNext(0));
  buffer.Delivered(100);  // (0, 100] went straight out
  EXPECT_TRUE(buffer.IsNext(100));
  auto piece = buffer.PopNext();
  ASSERT_TRUE(piece.has_value());
  EXPECT_EQ(IdsOf(piece->items), std::vector<int64_t>{150});
  EXPECT_EQ(piece->upto, 200);
}

// What rows of a given width cost in the buffer: MessagePack bytes, each row
// {"ID": id, "TEXT": padding} plus one array header per piece.
struct Width {
  size_t padding;  // characters of TEXT
  int rows;
  int64_t bytes;   // held
};

class RangeBufferBytes : public ::testing::TestWithParam<Width> {};

TEST_P(RangeBufferBytes, CountsWhatRowsCost) {
  const Width& w = GetParam();
  OrderedRangeBuffer buffer(0);
  EXPECT_EQ(buffer.ItemBytes(), OrderedRangeBuffer::kDefaultItemBytes);
  std::vector<int64_t> ids;
  for (int i = 1; i <= w.rows; ++i) ids.push_back(100 + i);  // ids of 1 byte
  buffer.Add(100, 1000, Rows(ids, w.padding));
  EXPECT_EQ(buffer.bytes(), w.bytes);
  EXPECT_EQ(buffer.items(), w.rows);
  EXPECT_DOUBLE_EQ(buffer.ItemBytes(), static_cast<double>(w.bytes) / w.rows);
  // Nothing before 100 was asked for yet: held until it is.
  EXPECT_FALSE(buffer.PopNext().has_value());
  buffer.Delivered(100);
  ASSERT_TRUE(buffer.PopNext().has_value());
  EXPECT_EQ(buffer.bytes(), 0);
  EXPECT_EQ(buffer.items(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RangeBufferBytes,
    ::testing::Values(
        // A row: map header 1, "ID" 3, id 1, "TEXT" 5, the text 1 + n
        // (n < 32), 2 + n (n < 256), 3 + n (n < 65536). Array header: 1
        // byte (up to 15 rows), 3 (up to 65535).
        Width{0, 2, 1 + 2 * 11},            // 11 bytes a row
        Width{10, 10, 1 + 10 * 21},         // 21 bytes a row
        Width{2000, 10, 1 + 10 * 2013},     // a wide row: 2,013 bytes
        Width{2000, 20, 3 + 20 * 2013}));

TEST(RangeBuffer, PiecesPastTheTreeAllowanceComeBackTheSame) {
  // The first MiB of MessagePack stays as trees; what comes after it is
  // packed. Both come back whole, in order, and are counted alike.
  OrderedRangeBuffer buffer(0);
  const size_t padding = 1000;  // about 1 KB a row
  std::vector<std::vector<int64_t>> pieces;
  int64_t id = 0;
  for (int p = 0; p < 4; ++p) {  // 4 pieces of 400 rows: about 1.6 MB
    std::vector<int64_t> ids;
    for (int i = 0; i < 400; ++i) ids.push_back(++id);
    pieces.push_back(ids);
  }
  for (int p = 3; p >= 0; --p) {
    buffer.Add(p * 400, (p + 1) * 400, Rows(pieces[static_cast<size_t>(p)], padding));
  }
  EXPECT_EQ(buffer.items(), 1600);
  EXPECT_GT(buffer.bytes(), OrderedRangeBuffer::kTreeBytes);
  for (const auto& ids : pieces) {
    auto piece = buffer.PopNext();
    ASSERT_TRUE(piece.has_value());
    EXPECT_EQ(IdsOf(piece->items), ids);
    EXPECT_EQ(piece->items.back()["TEXT"], std::string(padding, 'x'));
  }
  EXPECT_EQ(buffer.items(), 0);
  EXPECT_EQ(buffer.bytes(), 0);
}

TEST(RangeBuffer, RowsMeasuredOnTheirWayOutCountTowardsTheirCost) {
  OrderedRangeBuffer buffer(0);
  buffer.Measure(Rows({101, 102}, 10));  // 21 bytes a row, array header 1
  EXPECT_DOUBLE_EQ(buffer.ItemBytes(), (1 + 2 * 21) / 2.0);
  EXPECT_EQ(buffer.bytes(), 0);  // measured, not held
}

// Makes a page into a block of `bytes_per_item` bytes an item.
class SizedPreparer : public PagePreparer {
 public:
  class Page : public PreparedPage {
   public:
    explicit Page(int64_t bytes) : bytes_(bytes) {}
    int64_t bytes() const override { return bytes_; }

   private:
    int64_t bytes_;
  };
  explicit SizedPreparer(int64_t bytes_per_item) : bytes_per_item_(bytes_per_item) {}
  std::unique_ptr<PreparedPage> Prepare(std::vector<Json> items) const override {
    return std::make_unique<Page>(static_cast<int64_t>(items.size()) * bytes_per_item_);
  }

 private:
  int64_t bytes_per_item_;
};

std::shared_ptr<EarlyPages> Early(std::vector<int64_t> ids, int64_t bytes_per_item) {
  int64_t last = ids.back();
  return std::make_shared<EarlyPages>(Rows(std::move(ids)), "ID", last,
                                      std::make_shared<SizedPreparer>(bytes_per_item));
}

TEST(RangeBuffer, PagesMadeAheadComeBackInOrderAmongTheOthers) {
  OrderedRangeBuffer buffer(0);
  std::vector<int64_t> early_ids;
  for (int64_t id = 101; id <= 220; ++id) early_ids.push_back(id);
  buffer.AddEarly(100, 300, Early(early_ids, 1000));
  buffer.Add(0, 100, Rows({5, 50}));
  buffer.Add(300, 400, Rows({350}));
  EXPECT_EQ(buffer.items(), 123);
  auto first = buffer.PopNext();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(IdsOf(first->items), (std::vector<int64_t>{5, 50}));
  auto early = buffer.PopNext();
  ASSERT_TRUE(early.has_value());
  ASSERT_NE(early->early, nullptr);
  EXPECT_TRUE(early->items.empty());
  EXPECT_EQ(early->upto, 300);
  // Cut as DeliverByPage cuts: 50 from the first, the last page ending at
  // the last id.
  ASSERT_EQ(early->early->pages(), 3u);
  EXPECT_EQ(early->early->items(0), 50);
  EXPECT_EQ(early->early->last_id(0), 150);
  EXPECT_EQ(early->early->last_id(1), 200);
  EXPECT_EQ(early->early->items(2), 20);
  EXPECT_EQ(early->early->last_id(2), 220);
  auto last = buffer.PopNext();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(IdsOf(last->items), std::vector<int64_t>{350});
  EXPECT_EQ(buffer.items(), 0);
  EXPECT_EQ(buffer.bytes(), 0);
}

TEST(RangeBuffer, PagesMadeAheadCountWhatTheyHoldOnceMade) {
  // Their JSON is gone once they are made: what is held is the made pages
  // (here 1,000 bytes an item), and before that the items at ItemBytes.
  OrderedRangeBuffer buffer(0);
  std::vector<int64_t> ids;
  for (int64_t id = 101; id <= 200; ++id) ids.push_back(id);
  std::shared_ptr<EarlyPages> pages = Early(ids, 1000);
  buffer.AddEarly(100, 200, pages);
  EXPECT_EQ(buffer.bytes(), static_cast<int64_t>(100 * OrderedRangeBuffer::kDefaultItemBytes));
  pages->Prepare(0);
  EXPECT_EQ(buffer.bytes(),
            50 * 1000 + static_cast<int64_t>(50 * OrderedRangeBuffer::kDefaultItemBytes));
  pages->Prepare(1);
  EXPECT_EQ(buffer.bytes(), 100 * 1000);
  // The room for such pages is bounded in those bytes.
  int64_t room = (OrderedRangeBuffer::kEarlyBytes - 100 * 1000) /
                 static_cast<int64_t>(OrderedRangeBuffer::kDefaultItemBytes);
  EXPECT_TRUE(buffer.EarlyHasRoom(room));
  EXPECT_FALSE(buffer.EarlyHasRoom(room + 1));
  buffer.Delivered(100);
  auto piece = buffer.PopNext();
  ASSERT_TRUE(piece.has_value());
  EXPECT_EQ(buffer.bytes(), 0);
  EXPECT_TRUE(buffer.EarlyHasRoom(OrderedRangeBuffer::kEarlyBytes /
                                  static_cast<int64_t>(OrderedRangeBuffer::kDefaultItemBytes)));
}

}  // namespace
}  // namespace b24gate::range_buffer_test
