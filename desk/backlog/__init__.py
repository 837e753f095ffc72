"""The form-consultation backlog (表单咨询): what live chat hands off, answered within the
reply norms (非实时参考咨询回复规范) and their 72-hour rules."""
