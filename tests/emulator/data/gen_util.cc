#include "data/gen_util.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace b24emu::data::gen {
namespace {

constexpr const char* kFirstNames[] = {
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Henry", "Harper", "Alexander", "Evelyn", "Daniel", "Anna",
    "Ivan", "Maria", "Dmitry", "Elena", "Sergey", "Olga", "Hans", "Greta", "Pierre", "Chloe",
    "Marco", "Giulia", "Yuki", "Hiro", "Priya", "Arjun", "Fatima", "Omar", "Lena", "Jonas",
    "Sofia"};
constexpr const char* kLastNames[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martin",
    "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Harris", "Clark",
    "Lewis", "Walker", "Ivanov", "Petrova", "Smirnov", "Kuznetsova", "Muller", "Schmidt",
    "Dubois", "Rossi", "Bianchi", "Tanaka", "Sato", "Patel", "Sharma", "Khan", "Novak",
    "Kowalski", "Jensen", "Larsen", "Silva", "Costa"};
constexpr const char* kCompanyA[] = {
    "Northwind", "Blue Ridge", "Silverline", "Greenfield", "Red Oak", "Brightstar", "Summit",
    "Ironwood", "Clearwater", "Nova", "Atlas", "Pioneer", "Evergreen", "Horizon", "Crescent",
    "Granite", "Maple", "Falcon", "Harbor", "Sterling"};
constexpr const char* kCompanyB[] = {
    "Logistics", "Systems", "Foods", "Consulting", "Media", "Energy", "Retail", "Software",
    "Builders", "Pharma", "Motors", "Textiles", "Analytics", "Travel", "Finance", "Labs"};
constexpr const char* kCompanySuffix[] = {"LLC", "Inc.", "Ltd", "GmbH", "Group", "Corp.", "AG", "Co."};
constexpr const char* kWords[] = {
    "client", "asked", "for", "a", "quote", "on", "the", "annual", "plan", "call", "back",
    "next", "week", "about", "delivery", "terms", "and", "discount", "met", "at", "trade",
    "show", "interested", "in", "integration", "with", "their", "warehouse", "budget",
    "approved", "needs", "demo", "contract", "draft", "sent", "follow-up"};
constexpr const char* kCities[] = {"Berlin", "London", "Paris", "Madrid", "Rome", "Warsaw",
                                   "Vienna", "Prague", "Riga", "Lisbon", "Dublin", "Oslo"};

}  // namespace

const char* FirstName(int64_t id, uint64_t salt) { return PickFrom(id, salt, kFirstNames); }
const char* LastName(int64_t id, uint64_t salt) { return PickFrom(id, salt, kLastNames); }
const char* City(int64_t id, uint64_t salt) { return PickFrom(id, salt, kCities); }

std::string CompanyName(int64_t id, uint64_t salt) {
  return absl::StrCat(PickFrom(id, salt, kCompanyA), " ", PickFrom(id, salt + 1, kCompanyB), " ",
                      PickFrom(id, salt + 2, kCompanySuffix));
}

std::string Phone(int64_t id, uint64_t salt) {
  uint64_t m = Mix(id, salt);
  return absl::StrFormat("+1%03d%03d%04d", 201 + static_cast<int>(m % 700),
                         static_cast<int>((m >> 12) % 1000), static_cast<int>((m >> 24) % 10000));
}

std::string Email(int64_t id, uint64_t salt) {
  return absl::AsciiStrToLower(
      absl::StrCat(FirstName(id, salt), ".", LastName(id, salt + 1), id % 1000, "@example.com"));
}

std::string Sentence(int64_t id, uint64_t salt) {
  int n = 5 + static_cast<int>(Pick(id, salt, 8));
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    out += PickFrom(id, salt * 31 + i, kWords);
  }
  out[0] = absl::ascii_toupper(out[0]);
  out += '.';
  return out;
}

int64_t CreatedAt(int64_t id, int64_t max_id) {
  constexpr int64_t kStart = 1609459200;  // 2021-01-01T00:00:00Z
  constexpr int64_t kSpan = 1725148800 - kStart;  // .. 2024-09-01
  if (max_id < 1) max_id = 1;
  double frac = static_cast<double>(id) / static_cast<double>(max_id);
  if (frac > 1) frac = 1;
  int64_t t = kStart + static_cast<int64_t>(frac * kSpan) + static_cast<int64_t>(Pick(id, 77, 600));
  return t - t % 60;  // Bitrix UI-made rows mostly have whole minutes
}

}  // namespace b24emu::data::gen
