namespace suanli {}
