module zkaccel.example/msmntt

go 1.19
