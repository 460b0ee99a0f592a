def test_login_page_is_chinese_with_csrf(client):
    response = client.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "工作人员登录" in html
    assert 'name="csrf_token"' in html
