#include <cstdio>

int main() { std::puts("suanli"); return 0; }
